/**
 * ISO 4217 minor-unit digits. Currencies not listed use 2 (USD, EUR, GBP, …). The table is explicit
 * rather than read from `Intl`, so results do not depend on the ICU data Node was built with.
 */
const MINOR_UNIT_DIGITS: Readonly<Record<string, number>> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0,
  VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  CLF: 4, UYW: 4,
};

/** The number of minor-unit digits of an ISO 4217 currency code (2 unless listed otherwise). */
export function minorUnitDigitsOf(currency: string): number {
  return MINOR_UNIT_DIGITS[currency] ?? 2;
}
