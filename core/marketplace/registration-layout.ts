/**
 * The document around every registration page: one small inline style sheet (allowed by its hash in
 * the Content-Security-Policy, so no `'unsafe-inline'`), no scripts, no external resources, and the
 * security headers of every response.
 *
 * Colours (contrast on white): text #1b1b1b 17:1, hints #4a4a4a 8.9:1, errors #b3261e 6.5:1, links,
 * focus ring and button #0b57d0 6.4:1 (white on the button 6.4:1). The focus ring is 3 px with a 2 px
 * gap, on every focusable element. Layout is one column, fluid down to 320 px.
 */
import { createHash } from 'node:crypto';
import { escapeHtml } from './registration-escape';

/** The inline style sheet (its SHA-256 is in the CSP: change it only here). */
export const PAGE_CSS = [
  '*,*::before,*::after{box-sizing:border-box}',
  'html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;font-size:100%;line-height:1.5;color:#1b1b1b;background:#fff;-webkit-text-size-adjust:100%;text-size-adjust:100%}',
  'body{margin:0}',
  '.banner{background:#232f3e;color:#fff;padding:.75rem 0}',
  '.banner p{margin:0 auto;max-width:36rem;padding:0 1rem;font-weight:600}',
  'main{display:block;max-width:36rem;margin:0 auto;padding:1.5rem 1rem 3rem}',
  'h1{font-size:1.75rem;line-height:1.2;margin:0 0 1rem}',
  'h2{font-size:1.125rem;line-height:1.3;margin:0 0 .5rem}',
  'p,li,dd{overflow-wrap:anywhere}',
  'a{color:#0b57d0;text-decoration:underline;text-underline-offset:.15em}',
  ':focus-visible{outline:3px solid #0b57d0;outline-offset:2px}',
  '.field{margin:0 0 1.5rem}',
  '.field-error{border-left:4px solid #b3261e;padding-left:.75rem}',
  'label{display:block;font-weight:600;margin:0 0 .25rem}',
  '.hint{color:#4a4a4a;margin:0 0 .25rem}',
  '.error{color:#b3261e;font-weight:600;margin:0 0 .25rem}',
  'input{display:block;width:100%;max-width:100%;font:inherit;color:#1b1b1b;background:#fff;padding:.5rem .625rem;border:2px solid #1b1b1b;border-radius:4px}',
  'input:focus{outline:3px solid #0b57d0;outline-offset:2px}',
  '.field-error input{border-color:#b3261e}',
  'button{font:inherit;font-weight:600;color:#fff;background:#0b57d0;border:2px solid transparent;border-radius:4px;padding:.625rem 1.25rem;cursor:pointer;min-height:44px}',
  'button:hover{background:#0842a0}',
  'button:focus-visible{outline:3px solid #1b1b1b;outline-offset:2px}',
  '.error-summary{border:4px solid #b3261e;padding:1rem;margin:0 0 1.5rem}',
  '.error-summary:focus{outline:3px solid #1b1b1b;outline-offset:2px}',
  '.error-summary ul{margin:0;padding-left:1.25rem}',
  '.error-summary a{color:#b3261e;font-weight:600}',
  '.note{color:#4a4a4a}',
  '.tenant-id{display:inline-block;max-width:100%;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:1rem;background:#f3f3f3;padding:.25rem .5rem;border-radius:4px;word-break:break-all}',
  'dl{margin:0 0 1rem}',
  'dt{font-weight:600}',
  'dd{margin:0 0 .5rem}',
  '.visually-hidden{position:absolute!important;width:1px!important;height:1px!important;margin:-1px!important;padding:0!important;overflow:hidden!important;clip:rect(0 0 0 0)!important;white-space:nowrap!important;border:0!important}',
  '@media (max-width:400px){h1{font-size:1.5rem}main{padding:1rem .75rem 2rem}.banner p{padding:0 .75rem}}',
].join('');

/** The CSP source that allows exactly {@link PAGE_CSS}. */
export const PAGE_CSS_HASH = `'sha256-${createHash('sha256').update(PAGE_CSS, 'utf8').digest('base64')}'`;

/**
 * The headers of every registration response: HTML, never cached (the form carries a session), no
 * framing, no sniffing, no referrer (the page URL is harmless, but the buyer's next site need not know).
 */
export function securityHeaders(): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': `default-src 'none'; style-src ${PAGE_CSS_HASH}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
  };
}

/** What the document needs besides the page's own markup. */
export interface DocumentParts {
  /** The `<title>` (escaped here). */
  readonly title: string;
  /** The product name shown in the banner (escaped here). */
  readonly serviceName: string;
  /** The content of `<main>`, already escaped markup (must start with the page's one `<h1>`). */
  readonly main: string;
}

/** A complete HTML document. */
export function renderDocument(parts: DocumentParts): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="robots" content="noindex, nofollow">',
    `<title>${escapeHtml(parts.title)} – ${escapeHtml(parts.serviceName)}</title>`,
    `<style>${PAGE_CSS}</style>`,
    '</head>',
    '<body>',
    `<header class="banner"><p>${escapeHtml(parts.serviceName)}</p></header>`,
    `<main id="main">${parts.main}</main>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
