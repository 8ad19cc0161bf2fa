/**
 * The registration pages as HTML: status codes, security headers, accessibility markup, and escaping
 * of every rendered value (XSS attempts in every field).
 */
import { createHash } from 'node:crypto';
import { CONTACT_FIELDS, EMPTY_CONTACT_VALUES, type ContactValues } from '../../../core/marketplace/registration-form';
import { pageResponse, renderPage } from '../../../core/marketplace/registration-html';
import { PAGE_CSS, PAGE_CSS_HASH, securityHeaders } from '../../../core/marketplace/registration-layout';
import { statusOf, type RegistrationPage } from '../../../core/marketplace/registration-views';

const SESSION = 'Ab3_-'.repeat(8) + 'xyz';
const XSS = [
  '"><script>alert(1)</script>',
  "' autofocus onfocus='alert(1)",
  '</textarea><img src=x onerror=alert(1)>',
  '`${alert(1)}`',
  '<svg/onload=alert(1)>',
  '&lt;script&gt;alert(1)&lt;/script&gt;',
  'javascript:alert(1)',
];

const PAGES: readonly [RegistrationPage, number][] = [
  [{ kind: 'form', sessionId: SESSION, values: EMPTY_CONTACT_VALUES, errors: {} }, 200],
  [{ kind: 'form', sessionId: SESSION, values: EMPTY_CONTACT_VALUES, errors: { companyName: 'Enter your company name' } }, 400],
  [{ kind: 'success', tenantId: 'mp-0123', state: 'active', companyName: 'Example', contactEmail: 'a@example.com' }, 200],
  [{ kind: 'start-from-marketplace', status: 200 }, 200],
  [{ kind: 'start-from-marketplace', status: 400 }, 400],
  [{ kind: 'start-from-marketplace', status: 405 }, 405],
  [{ kind: 'invalid-token' }, 400],
  [{ kind: 'expired-token' }, 400],
  [{ kind: 'already-used' }, 409],
  [{ kind: 'session-expired' }, 400],
  [{ kind: 'unreadable-request', status: 413 }, 413],
  [{ kind: 'unreadable-request', status: 415 }, 415],
  [{ kind: 'service-error', referenceId: 'ref-1' }, 502],
];

/** Inputs of the page that a user sees (not hidden). */
function visibleInputs(html: string): string[] {
  return [...html.matchAll(/<input [^>]*>/g)].map((m) => m[0]).filter((tag) => !tag.includes('type="hidden"'));
}

function attribute(tag: string, name: string): string | undefined {
  return new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
}

/** Every start tag, with its quoted attribute values blanked: what a browser would see as attributes. */
function tagShapes(html: string): string[] {
  return [...html.matchAll(/<[a-zA-Z][^>]*>/g)].map((m) => m[0].replace(/"[^"]*"/g, '""'));
}

/** Whether markup injected through a value could act: a new element, or an event-handler attribute. */
function expectInert(html: string): void {
  expect(html).not.toMatch(/<script|<img|<svg|<\/textarea/i);
  for (const shape of tagShapes(html)) {
    expect(shape).not.toMatch(/\son[a-z]+=/i);
    expect(shape).not.toMatch(/'/);
  }
  expect(html).not.toMatch(/href="javascript:/i);
}

/** The ids of all elements with one. */
function ids(html: string): string[] {
  return [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1] as string);
}

describe('status codes', () => {
  it.each(PAGES.map(([page, status]) => [page.kind, status, page] as const))('%s answers %i', (_kind, status, page) => {
    expect(statusOf(page)).toBe(status);
    expect(pageResponse(page).statusCode).toBe(status);
  });

  it('adds Allow to the 405 page only', () => {
    expect(pageResponse({ kind: 'start-from-marketplace', status: 405 }).headers.allow).toBe('GET, POST');
    expect(pageResponse({ kind: 'start-from-marketplace', status: 400 }).headers.allow).toBeUndefined();
  });
});

describe('every page', () => {
  it.each(PAGES.map(([page]) => [page.kind, page] as const))('%s is a small, self-contained, accessible document', (_kind, page) => {
    const html = renderPage(page, { serviceName: 'Acme Metering' });
    expect(html.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(html).toMatch(/<title>[^<]+ – Acme Metering<\/title>/);
    expect(html.match(/<h1[ >]/g)).toHaveLength(1);
    expect(html.match(/<main[ >]/g)).toHaveLength(1);
    expect(html).toMatch(/<main id="main"><h1>/);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\sstyle="|\son[a-z]+=/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(Buffer.byteLength(html)).toBeLessThan(8 * 1024);
    expect(new Set(ids(html)).size).toBe(ids(html).length);
  });

  it('has the security headers, with a CSP that allows exactly the inline style sheet', () => {
    const headers = pageResponse({ kind: 'invalid-token' }).headers;
    expect(headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      'x-frame-options': 'DENY',
    });
    const csp = headers['content-security-policy'] as string;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    const expected = `'sha256-${createHash('sha256').update(PAGE_CSS).digest('base64')}'`;
    expect(PAGE_CSS_HASH).toBe(expected);
    expect(csp).toContain(`style-src ${expected}`);
    expect(renderPage({ kind: 'invalid-token' })).toContain(`<style>${PAGE_CSS}</style>`);
    expect(securityHeaders()).toEqual(headers);
  });

  it('styles visible focus and narrow screens', () => {
    expect(PAGE_CSS).toContain(':focus-visible{outline:3px solid');
    expect(PAGE_CSS).toContain('input:focus{outline:3px solid');
    expect(PAGE_CSS).toContain('input{display:block;width:100%');
    expect(PAGE_CSS).toMatch(/@media \(max-width:400px\)/);
  });
});

describe('the form', () => {
  const blank = renderPage({ kind: 'form', sessionId: SESSION, values: EMPTY_CONTACT_VALUES, errors: {} });

  it('binds a label to every input, with autocomplete, required and input modes', () => {
    const inputs = visibleInputs(blank);
    expect(inputs.map((tag) => attribute(tag, 'id'))).toEqual([...CONTACT_FIELDS]);
    for (const tag of inputs) {
      const id = attribute(tag, 'id') as string;
      expect(blank).toContain(`<label for="${id}">`);
      expect(attribute(tag, 'name')).toBe(id);
      expect(tag).toMatch(/\srequired[\s>]/);
    }
    const byId = Object.fromEntries(inputs.map((tag) => [attribute(tag, 'id'), tag]));
    expect(attribute(byId.companyName as string, 'autocomplete')).toBe('organization');
    expect(attribute(byId.contactPerson as string, 'autocomplete')).toBe('name');
    expect(attribute(byId.contactEmail as string, 'autocomplete')).toBe('email');
    expect(attribute(byId.contactEmail as string, 'type')).toBe('email');
    expect(attribute(byId.contactEmail as string, 'inputmode')).toBe('email');
    expect(attribute(byId.contactPhone as string, 'autocomplete')).toBe('tel');
    expect(attribute(byId.contactPhone as string, 'type')).toBe('tel');
    expect(attribute(byId.contactPhone as string, 'inputmode')).toBe('tel');
  });

  it('posts to itself without JavaScript, carrying the session in a hidden field', () => {
    expect(blank).toContain('<form method="post" novalidate>');
    expect(blank).toContain(`<input type="hidden" name="session" value="${SESSION}">`);
    expect(blank).toContain('<button type="submit">');
    expect(blank).not.toContain('role="alert"');
    expect(blank).not.toContain('aria-invalid');
  });

  it('shows an error summary and an error next to each invalid field', () => {
    const values: ContactValues = { companyName: 'Acme', contactPerson: '', contactEmail: 'nope', contactPhone: '+1 555' };
    const errors = { contactPerson: 'Enter the name of the person we should contact', contactEmail: 'Enter an email address in the correct format, like name@example.com' };
    const html = renderPage({ kind: 'form', sessionId: SESSION, values, errors });
    expect(html).toMatch(/<title>Error: Set up your account/);
    const summary = /<div class="error-summary"[^>]*>[\s\S]*?<\/div>/.exec(html)?.[0] as string;
    expect(summary).toContain('role="alert"');
    expect(summary).toContain('tabindex="-1"');
    expect(summary).toContain('autofocus');
    expect(summary).toContain(`<a href="#contactPerson">${errors.contactPerson}</a>`);
    expect(summary).toContain('<a href="#contactEmail">Enter an email address in the correct format, like name@example.com</a>');
    expect(summary).not.toContain('#companyName');
    expect(html.indexOf('error-summary')).toBeLessThan(html.indexOf('<form'));

    const byId = Object.fromEntries(visibleInputs(html).map((tag) => [attribute(tag, 'id'), tag]));
    expect(attribute(byId.contactEmail as string, 'aria-invalid')).toBe('true');
    expect(attribute(byId.contactEmail as string, 'aria-describedby')).toBe('contactEmail-hint contactEmail-error');
    expect(attribute(byId.contactPerson as string, 'aria-describedby')).toBe('contactPerson-error');
    expect(attribute(byId.companyName as string, 'aria-invalid')).toBeUndefined();
    expect(html).toContain('<p class="error" id="contactEmail-error"><span class="visually-hidden">Error: </span>Enter an email address');
    // Values are kept.
    expect(attribute(byId.companyName as string, 'value')).toBe('Acme');
    expect(attribute(byId.contactEmail as string, 'value')).toBe('nope');
    expect(attribute(byId.contactPhone as string, 'value')).toBe('+1 555');
  });
});

describe('escaping', () => {
  it.each(XSS)('keeps %p inert in every field of the form, its errors and the session', (attack) => {
    const values = Object.fromEntries(CONTACT_FIELDS.map((field) => [field, attack])) as ContactValues;
    const errors = Object.fromEntries(CONTACT_FIELDS.map((field) => [field, attack]));
    const html = renderPage({ kind: 'form', sessionId: attack, values, errors }, { serviceName: attack, signInUrl: attack });
    expectInert(html);
    // The only autofocus is the error summary's.
    expect(tagShapes(html).filter((shape) => shape.includes('autofocus'))).toHaveLength(1);
    for (const tag of visibleInputs(html)) expect(attribute(tag, 'value')).toBe(attack.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;').replace(/`/g, '&#96;'));
  });

  it.each(XSS)('keeps %p inert on the success and error pages', (attack) => {
    const pages: RegistrationPage[] = [
      { kind: 'success', tenantId: attack, state: 'active', companyName: attack, contactEmail: attack },
      { kind: 'success', tenantId: attack, state: 'pending_registration', companyName: attack, contactEmail: attack },
      { kind: 'success', tenantId: attack, state: 'cancelled', companyName: attack, contactEmail: attack },
      { kind: 'service-error', referenceId: attack },
      { kind: 'already-used' },
    ];
    for (const page of pages) {
      expectInert(renderPage(page, { serviceName: attack, signInUrl: attack }));
    }
  });

  it('links "sign in" only to an http(s) URL', () => {
    expect(renderPage({ kind: 'already-used' }, { signInUrl: 'https://app.example.com/login?x=1&y="2"' }))
      .toContain('<a href="https://app.example.com/login?x=1&amp;y=&quot;2&quot;">sign in</a> instead');
    expect(renderPage({ kind: 'already-used' }, { signInUrl: 'javascript:alert(1)' })).not.toContain('<a href');
    expect(renderPage({ kind: 'already-used' }, {})).toContain('This registration link was already used — sign in instead.');
  });
});

describe('page texts', () => {
  it('tells the buyer what to do next', () => {
    expect(renderPage({ kind: 'expired-token' })).toContain('Go back to AWS Marketplace and choose <strong>Set up your account</strong> again.');
    expect(renderPage({ kind: 'expired-token' })).toMatch(/<h1>This registration link has expired<\/h1>/);
    expect(renderPage({ kind: 'start-from-marketplace', status: 400 })).toMatch(/<h1>Start from AWS Marketplace<\/h1>/);
    expect(renderPage({ kind: 'service-error', referenceId: 'ref-42' })).toContain('quote reference <strong>ref-42</strong>');
    const active = renderPage({ kind: 'success', tenantId: 'mp-abc', state: 'active', companyName: 'Acme', contactEmail: 'a@example.com' });
    expect(active).toContain("<h1>You're set up</h1>");
    expect(active).toContain("We've sent the details of how to sign in to <strong>a@example.com</strong>");
    expect(active).toContain('<span class="tenant-id" id="tenant-id">mp-abc</span>');
    expect(renderPage({ kind: 'success', tenantId: 'mp-abc', state: 'pending_registration', companyName: 'Acme', contactEmail: 'a@example.com' }))
      .toContain('waiting for AWS Marketplace to confirm your subscription');
    expect(renderPage({ kind: 'success', tenantId: 'mp-abc', state: 'failed', companyName: 'Acme', contactEmail: 'a@example.com' }))
      .toContain("<h1>We've saved your details</h1>");
  });
});
