import { type AddressParts, formatAddress, shortAddress } from './address.ts';

/**
 * The customer search key: every text a clerk may search by (name, customer code, ID number,
 * credit code, phones, meter numbers, addresses), normalised so one trigram index answers all
 * of them with a substring match.
 *
 * PostgreSQL's pg_trgm needs three characters to index a fragment, but Chinese fragments are
 * often two (a name, 幸福). Each CJK character is therefore written twice in the key and in the
 * query: "幸福" becomes "幸幸福福", which has trigrams. Doubling keeps substring matches exact:
 * q occurs in t exactly when double(q) occurs in double(t).
 */

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/g;
const IS_CJK = /^[\u3400-\u9fff\uf900-\ufaff]$/;
const FIELD_SEPARATOR = ' | ';

export function normaliseForSearch(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

export function doubleCjk(text: string): string {
  return text.replace(CJK, (ch) => ch + ch);
}

export function searchKey(fields: (string | null | undefined)[]): string {
  return doubleCjk(
    fields
      .filter((f): f is string => !!f && f.trim() !== '')
      .map(normaliseForSearch)
      .join(FIELD_SEPARATOR),
  );
}

export type SearchPlan =
  | { kind: 'empty' }
  /** One Chinese character: a surname; matched as a name prefix. */
  | { kind: 'namePrefix'; prefix: string }
  /** Too short to search by fragment: only exact codes and numbers match. */
  | { kind: 'exactOnly'; term: string }
  | { kind: 'fragment'; term: string; pattern: string };

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** How a search box entry is looked up. */
export function planSearch(input: string): SearchPlan {
  const term = normaliseForSearch(input);
  if (term === '') return { kind: 'empty' };
  const key = doubleCjk(term);
  if (IS_CJK.test(term)) return { kind: 'namePrefix', prefix: term };
  if ([...key].length < 3) return { kind: 'exactOnly', term };
  return { kind: 'fragment', term, pattern: `%${escapeLike(key)}%` };
}

export interface SearchableCustomer {
  name: string;
  customerCode: string;
  idCardNo?: string | null;
  creditCode?: string | null;
  phones: string[];
  meterNos: string[];
  addresses: Partial<AddressParts>[];
}

/** The search key of one customer: what the search box can find them by. */
export function customerSearchKey(c: SearchableCustomer): string {
  const addressTexts = c.addresses.flatMap((a) => {
    const short = shortAddress(a);
    return [formatAddress(a), short ? `${a.community ?? ''}${short}` : ''];
  });
  return searchKey([
    c.name,
    c.customerCode,
    c.idCardNo,
    c.creditCode,
    ...c.phones,
    ...c.meterNos,
    ...addressTexts,
  ]);
}
