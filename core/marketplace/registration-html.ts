/**
 * The registration pages as HTML. Accessible without JavaScript: labels bound to inputs, hints and
 * errors referenced by `aria-describedby`, `aria-invalid` on invalid fields, an error summary at the
 * top (`role="alert"`, focusable, focused on load by `autofocus`, linking to each field), autocomplete
 * tokens, and a `novalidate` form so that every buyer gets the same server-side messages instead of
 * the browser's (the `required` attributes still tell assistive technology what is mandatory).
 * Every value rendered goes through {@link escapeHtml}.
 */
import { escapeHtml } from './registration-escape';
import { CONTACT_FIELDS, SESSION_FIELD, labelOf, type ContactField, type ContactValues, type FieldErrors } from './registration-form';
import { renderDocument, securityHeaders } from './registration-layout';
import { SESSION_TTL_MS } from './registration-session';
import { statusOf, type RegistrationPage, type RegistrationResponse } from './registration-views';

/** What the pages say about the product (all optional). */
export interface PageOptions {
  /** Product name in the banner and the title. @default 'Account registration' */
  readonly serviceName?: string;
  /** Where an already registered buyer signs in; linked from the pages that say "sign in". */
  readonly signInUrl?: string;
}

interface FieldSpec {
  readonly type: 'text' | 'email' | 'tel';
  readonly autocomplete: string;
  readonly maxLength: number;
  readonly inputMode?: string;
  readonly hint?: string;
  readonly spellcheck?: boolean;
}

const FIELD_SPECS: Readonly<Record<ContactField, FieldSpec>> = {
  companyName: { type: 'text', autocomplete: 'organization', maxLength: 256 },
  contactPerson: { type: 'text', autocomplete: 'name', maxLength: 256, spellcheck: false },
  contactEmail: { type: 'email', autocomplete: 'email', maxLength: 320, inputMode: 'email', spellcheck: false, hint: 'We send the sign-in details to this address.' },
  contactPhone: { type: 'tel', autocomplete: 'tel', maxLength: 64, inputMode: 'tel', hint: 'Include the country code, like +44 20 7946 0000.' },
};

const BACK_TO_MARKETPLACE = 'Go back to AWS Marketplace and choose <strong>Set up your account</strong> again.';

function paragraph(html: string, className?: string): string {
  return className === undefined ? `<p>${html}</p>` : `<p class="${className}">${html}</p>`;
}

/** Only absolute http(s) URLs become links: escaping does not make a `javascript:` URL safe. */
function isWebUrl(value: string): boolean {
  return /^https?:\/\/[^\s]+$/i.test(value);
}

function signIn(options: PageOptions): string {
  const url = options.signInUrl;
  return url === undefined || !isWebUrl(url) ? 'sign in instead' : `<a href="${escapeHtml(url)}">sign in</a> instead`;
}

function renderField(field: ContactField, value: string, error: string | undefined): string {
  const spec = FIELD_SPECS[field];
  const hintId = `${field}-hint`;
  const errorId = `${field}-error`;
  const describedBy = [spec.hint === undefined ? undefined : hintId, error === undefined ? undefined : errorId].filter((id) => id !== undefined);
  const attributes = [
    `id="${field}"`,
    `name="${field}"`,
    `type="${spec.type}"`,
    `autocomplete="${spec.autocomplete}"`,
    ...(spec.inputMode === undefined ? [] : [`inputmode="${spec.inputMode}"`]),
    ...(spec.spellcheck === false ? ['spellcheck="false"'] : []),
    `maxlength="${spec.maxLength}"`,
    'required',
    'aria-required="true"',
    ...(error === undefined ? [] : ['aria-invalid="true"']),
    ...(describedBy.length === 0 ? [] : [`aria-describedby="${describedBy.join(' ')}"`]),
    `value="${escapeHtml(value)}"`,
  ];
  return [
    `<div class="field${error === undefined ? '' : ' field-error'}">`,
    `<label for="${field}">${escapeHtml(labelOf(field))}</label>`,
    ...(spec.hint === undefined ? [] : [`<p class="hint" id="${hintId}">${escapeHtml(spec.hint)}</p>`]),
    ...(error === undefined ? [] : [`<p class="error" id="${errorId}"><span class="visually-hidden">Error: </span>${escapeHtml(error)}</p>`]),
    `<input ${attributes.join(' ')}>`,
    '</div>',
  ].join('\n');
}

function renderErrorSummary(errors: FieldErrors): string {
  const items = CONTACT_FIELDS.filter((field) => errors[field] !== undefined)
    .map((field) => `<li><a href="#${field}">${escapeHtml(errors[field] as string)}</a></li>`);
  return [
    '<div class="error-summary" id="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" autofocus>',
    '<h2 id="error-summary-title">There is a problem</h2>',
    `<ul>${items.join('')}</ul>`,
    '</div>',
  ].join('\n');
}

function renderForm(sessionId: string, values: ContactValues, errors: FieldErrors, options: PageOptions, serviceName: string): string {
  const hasErrors = Object.keys(errors).length > 0;
  return [
    '<h1>Set up your account</h1>',
    ...(hasErrors ? [renderErrorSummary(errors)] : []),
    paragraph(`Thank you for subscribing to ${escapeHtml(serviceName)} in AWS Marketplace. Tell us who to contact and we will set up your account.`),
    paragraph('All fields are required.', 'note'),
    '<form method="post" novalidate>',
    `<input type="hidden" name="${SESSION_FIELD}" value="${escapeHtml(sessionId)}">`,
    ...CONTACT_FIELDS.map((field) => renderField(field, values[field], errors[field])),
    '<button type="submit">Set up account</button>',
    '</form>',
    paragraph(`This form can be submitted once, within ${SESSION_TTL_MS / 60_000} minutes of opening it. Already registered? You can ${signIn(options)}.`, 'note'),
  ].join('\n');
}

function renderSuccess(page: Extract<RegistrationPage, { kind: 'success' }>): string {
  const company = escapeHtml(page.companyName);
  const email = `<strong>${escapeHtml(page.contactEmail)}</strong>`;
  const next = page.state === 'active'
    ? `Thank you, ${company}. We've sent the details of how to sign in to ${email}.`
    : page.state === 'pending_registration'
      ? `Thank you, ${company}. We're waiting for AWS Marketplace to confirm your subscription, usually a matter of minutes. We'll send the details of how to sign in to ${email} as soon as it does.`
      : `Thank you, ${company}. We've saved your details, but your AWS Marketplace subscription is not active, so we can't open your account yet. Check your subscription in AWS Marketplace.`;
  return [
    page.state === 'active' || page.state === 'pending_registration' ? "<h1>You're set up</h1>" : "<h1>We've saved your details</h1>",
    paragraph(next),
    '<dl>',
    '<dt>Your tenant id</dt>',
    `<dd><span class="tenant-id" id="tenant-id">${escapeHtml(page.tenantId)}</span></dd>`,
    '</dl>',
    paragraph('Quote it when you contact support.', 'note'),
  ].join('\n');
}

/** The title and `<main>` markup of a page. */
function renderMain(page: RegistrationPage, options: PageOptions, serviceName: string): { title: string; main: string } {
  switch (page.kind) {
    case 'form': {
      const hasErrors = Object.keys(page.errors).length > 0;
      return { title: `${hasErrors ? 'Error: ' : ''}Set up your account`, main: renderForm(page.sessionId, page.values, page.errors, options, serviceName) };
    }
    case 'success':
      return { title: "You're set up", main: renderSuccess(page) };
    case 'start-from-marketplace':
      return {
        title: 'Start from AWS Marketplace',
        main: [
          '<h1>Start from AWS Marketplace</h1>',
          paragraph(`This page sets up your ${escapeHtml(serviceName)} account after you subscribe in AWS Marketplace. It needs the registration details that AWS Marketplace sends when you choose <strong>Set up your account</strong>, and none arrived.`),
          '<ol>',
          '<li>Sign in to AWS Marketplace and open <strong>Manage subscriptions</strong>.</li>',
          `<li>Choose your subscription to ${escapeHtml(serviceName)}.</li>`,
          '<li>Choose <strong>Set up your account</strong>.</li>',
          '</ol>',
        ].join('\n'),
      };
    case 'invalid-token':
      return {
        title: 'Registration link not recognised',
        main: ["<h1>We couldn't verify this registration link</h1>", paragraph(`AWS Marketplace did not recognise the registration details your browser sent. ${BACK_TO_MARKETPLACE}`)].join('\n'),
      };
    case 'expired-token':
      return {
        title: 'Registration link expired',
        main: ['<h1>This registration link has expired</h1>', paragraph(`Registration links from AWS Marketplace are valid for a short time only. ${BACK_TO_MARKETPLACE}`)].join('\n'),
      };
    case 'already-used':
      return {
        title: 'Registration link already used',
        main: [
          '<h1>This registration link was already used</h1>',
          paragraph(`This registration link was already used — ${signIn(options)}.`),
          paragraph('If you did not complete the registration yourself, contact support.', 'note'),
        ].join('\n'),
      };
    case 'session-expired':
      return {
        title: 'Form expired',
        main: [
          '<h1>This form has expired or was already submitted</h1>',
          paragraph(`For your security, the form can be submitted once, within ${SESSION_TTL_MS / 60_000} minutes of opening it.`),
          paragraph(`If you already submitted it, your account is registered — ${signIn(options)}. Otherwise: ${BACK_TO_MARKETPLACE}`),
        ].join('\n'),
      };
    case 'unreadable-request':
      return {
        title: 'Request not understood',
        main: ["<h1>We couldn't read this request</h1>", paragraph(BACK_TO_MARKETPLACE)].join('\n'),
      };
    case 'service-error':
      return {
        title: 'Something went wrong',
        main: [
          '<h1>Something went wrong on our side</h1>',
          paragraph(`We couldn't complete this step. Please try again in a few minutes: ${BACK_TO_MARKETPLACE}`),
          paragraph(`If it keeps happening, contact support and quote reference <strong>${escapeHtml(page.referenceId)}</strong>.`),
        ].join('\n'),
      };
  }
}

/** A page as a complete HTML document. */
export function renderPage(page: RegistrationPage, options: PageOptions = {}): string {
  const serviceName = options.serviceName ?? 'Account registration';
  const { title, main } = renderMain(page, options, serviceName);
  return renderDocument({ title, serviceName, main });
}

/** A page as an HTTP response: its status, the security headers, the HTML. */
export function pageResponse(page: RegistrationPage, options: PageOptions = {}): RegistrationResponse {
  const headers = securityHeaders();
  return {
    statusCode: statusOf(page),
    headers: page.kind === 'start-from-marketplace' && page.status === 405 ? { ...headers, allow: 'GET, POST' } : headers,
    body: renderPage(page, options),
  };
}
