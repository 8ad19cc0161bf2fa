/**
 * HTML escaping for the registration page. Every value the page renders — in text or in a
 * double-quoted attribute — goes through {@link escapeHtml}; the page never renders a value into a
 * `<script>`, a `<style>`, a URL or an unquoted attribute, where escaping alone would not be enough.
 */

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/**
 * Escapes `& < > " ' \`` so that the value is inert as HTML text and inside a quoted attribute value.
 * Also drops characters HTML forbids (C0 controls other than tab/newline/CR, and lone surrogates
 * become U+FFFD via `toWellFormed`-like replacement) so the output is always well-formed.
 */
export function escapeHtml(value: string): string {
  return value
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    .replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);
}
