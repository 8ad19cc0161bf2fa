/**
 * The shell of the self-contained HTML pages this project writes (invoice previews, the local run's
 * report): one file, inline CSS, a Content-Security-Policy that allows nothing else — no script, no
 * request to anywhere. The caller escapes the body; the title is escaped here.
 */
import { escapeHtml } from './marketplace/registration-escape';

export interface HtmlPage {
  readonly title: string;
  readonly style: string;
  /** Markup inside `<main>`, already escaped. */
  readonly main: string;
}

export function htmlPage({ title, style, main }: HtmlPage): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escapeHtml(title)}</title>
<style>${style}</style>
</head>
<body>
<main>
${main}
</main>
</body>
</html>
`;
}
