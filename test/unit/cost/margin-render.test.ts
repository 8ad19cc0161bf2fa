import { MARGIN_CSV_HEADER, MARGIN_FORMATS, marginCsv, marginJson, marginJsonValue, marginTable, renderMargins } from '../../../core/cost/margin-render';
import type { TenantMarginReport } from '../../../core/cost/tenant-margin';

const report: TenantMarginReport = {
  currency: 'USD',
  minorUnitDigits: 2,
  rows: [
    { tenantId: 'acme', revenueMinor: 12345n, costMinor: 4567n, marginMinor: 7778n, marginPercent: '63.0' },
    { tenantId: 'globex, "inc"', revenueMinor: 0n, costMinor: 321n, marginMinor: -321n, marginPercent: null },
    { tenantId: 'line\nbreak', revenueMinor: 5n, costMinor: 0n, marginMinor: 5n, marginPercent: '100.0' },
  ],
  unallocatedCostMinor: 123n,
  totals: { revenueMinor: 12350n, costMinor: 5011n, marginMinor: 7339n, marginPercent: '59.4' },
};

/** A minimal RFC 4180 reader (quoted fields, doubled quotes, CRLF records), to read back what was written. */
function readCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '"' && text[i + 1] === '"') {
      field += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (!quoted && c === ',') {
      record.push(field);
      field = '';
    } else if (!quoted && c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else {
      field += c;
    }
  }
  return records;
}

describe('margin report rendering', () => {
  it('writes RFC 4180 CSV: CRLF, quoted fields with commas, quotes and line breaks, empty n/a', () => {
    const csv = marginCsv(report);
    expect(csv.split('\r\n')).toEqual([
      'row,tenant_id,currency,revenue_minor,cost_minor,margin_minor,margin_percent,revenue,cost,margin',
      'tenant,acme,USD,12345,4567,7778,63.0,123.45,45.67,77.78',
      'tenant,"globex, ""inc""",USD,0,321,-321,,0.00,3.21,-3.21',
      'tenant,"line\nbreak",USD,5,0,5,100.0,0.05,0.00,0.05',
      'unallocated,,USD,,123,,,,1.23,',
      'total,,USD,12350,5011,7339,59.4,123.50,50.11,73.39',
      '',
    ]);
    const records = readCsv(csv);
    expect(records[0]).toEqual([...MARGIN_CSV_HEADER]);
    expect(records.slice(1, 4).map((r) => r[1])).toEqual(['acme', 'globex, "inc"', 'line\nbreak']);
    expect(records.every((r) => r.length === MARGIN_CSV_HEADER.length)).toBe(true);
  });

  it('writes JSON with every bigint as an exact decimal string', () => {
    const huge: TenantMarginReport = { ...report, rows: [{ tenantId: 'big', revenueMinor: 2n ** 64n, costMinor: 1n, marginMinor: 2n ** 64n - 1n, marginPercent: '100.0' }] };
    const parsed = JSON.parse(marginJson(huge));
    expect(parsed.rows[0]).toEqual({
      tenantId: 'big',
      revenueMinor: '18446744073709551616', revenue: '184467440737095516.16',
      costMinor: '1', cost: '0.01',
      marginMinor: '18446744073709551615', margin: '184467440737095516.15',
      marginPercent: '100.0',
    });
    expect(JSON.parse(marginJson(report))).toEqual(marginJsonValue(report));
    expect(marginJsonValue(report).rows[1]).toMatchObject({ tenantId: 'globex, "inc"', marginMinor: '-321', margin: '-3.21', marginPercent: null });
    expect(marginJsonValue(report).unallocated).toEqual({ costMinor: '123', cost: '1.23' });
    expect(marginJson(report).endsWith('}\n')).toBe(true);
  });

  it('writes a fixed-width table, figures right-aligned, control characters escaped', () => {
    expect(marginTable(report)).toBe([
      'Tenant           Revenue USD  Cost USD  Margin USD  Margin %',
      '------------------------------------------------------------',
      'acme                  123.45     45.67       77.78      63.0',
      'globex, "inc"           0.00      3.21       -3.21       n/a',
      'line\\u000abreak         0.05      0.00        0.05     100.0',
      '(unallocated)                     1.23',
      '------------------------------------------------------------',
      'Total                 123.50     50.11       73.39      59.4',
      '',
    ].join('\n'));
  });

  it('formats amounts in the currency minor unit (JPY: none)', () => {
    const yen: TenantMarginReport = { currency: 'JPY', minorUnitDigits: 0, rows: [{ tenantId: 'a', revenueMinor: 1000n, costMinor: 250n, marginMinor: 750n, marginPercent: '75.0' }], unallocatedCostMinor: 0n, totals: { revenueMinor: 1000n, costMinor: 250n, marginMinor: 750n, marginPercent: '75.0' } };
    expect(marginTable(yen).split('\n')[2]).toBe('a                     1000       250         750      75.0');
    expect(marginCsv(yen).split('\r\n')[1]).toBe('tenant,a,JPY,1000,250,750,75.0,1000,250,750');
  });

  it('renders every format by name', () => {
    expect(MARGIN_FORMATS.map((format) => renderMargins(report, format))).toEqual([marginTable(report), marginCsv(report), marginJson(report)]);
  });
});
