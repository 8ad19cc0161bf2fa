/** The HTML escaper of the registration page. */
import fc from 'fast-check';
import { escapeHtml } from '../../../core/marketplace/registration-escape';

describe('escapeHtml', () => {
  it('escapes the characters that matter in text and quoted attributes', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&\`</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;&lt;/a&gt;');
  });

  it('leaves ordinary text (including non-ASCII) unchanged', () => {
    expect(escapeHtml('Zoë Müller – 東京 +44 (20) 7946-0000')).toBe('Zoë Müller – 東京 +44 (20) 7946-0000');
  });

  it('escapes an existing entity again (no double-decoding surprises)', () => {
    expect(escapeHtml('&lt;script&gt;')).toBe('&amp;lt;script&amp;gt;');
  });

  it('drops control characters HTML forbids and replaces lone surrogates', () => {
    expect(escapeHtml('a\u0000b\u0007c\u001Fd\u007Fe\tf\ng')).toBe('abcde\tf\ng');
    expect(escapeHtml('x\uD800y\uDC00z')).toBe('x\uFFFDy\uFFFDz');
    expect(escapeHtml('😀')).toBe('😀');
  });

  it('never lets a markup or quote character through, for any string', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (value) => {
      const escaped = escapeHtml(value);
      expect(escaped).not.toMatch(/[<>"'`]/);
      // Every & starts one of the entities the escaper writes.
      expect(escaped.replace(/&(amp|lt|gt|quot|#39|#96);/g, '')).not.toContain('&');
    }), { numRuns: 500 });
  });
});
