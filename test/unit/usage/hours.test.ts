import { hourKey, hoursFrom, parseHourKey, parseSqlTimestamp, sqlTimestamp } from '../../../core/usage/hours';

describe('hours', () => {
  it('round-trips hour keys and rejects anything else', () => {
    const h = Date.UTC(2026, 1, 28, 23);
    expect(hourKey(h)).toBe('2026-02-28T23');
    expect(parseHourKey('2026-02-28T23')).toBe(h);
    for (const bad of ['2026-02-30T01', '2026-02-28T24', '2026-02-28 23', '2026-2-28T23', '']) expect(() => parseHourKey(bad)).toThrow(/not an hour key/);
  });

  it('reads timestamps as Athena and DuckDB print them, to the millisecond', () => {
    const expected = Date.UTC(2026, 10, 23, 10, 0, 0, 123);
    expect(parseSqlTimestamp('2026-11-23 10:00:00.123')).toBe(expected);
    expect(parseSqlTimestamp('2026-11-23 10:00:00.123456')).toBe(expected);
    expect(parseSqlTimestamp('2026-11-23T10:00:00.123Z')).toBe(expected);
    expect(parseSqlTimestamp('2026-11-23 10:00:00')).toBe(expected - 123);
    expect(() => parseSqlTimestamp('yesterday')).toThrow(/not a timestamp/);
  });

  it('writes query bounds Athena and DuckDB both cast to timestamp', () => {
    expect(sqlTimestamp(Date.UTC(2026, 10, 23, 10))).toBe('2026-11-23 10:00:00.000');
  });

  it('lists the hours of a range, both ends included', () => {
    expect(hoursFrom(Date.UTC(2026, 0, 1, 22, 30), Date.UTC(2026, 0, 2, 0)).map(hourKey)).toEqual(['2026-01-01T22', '2026-01-01T23', '2026-01-02T00']);
  });
});
