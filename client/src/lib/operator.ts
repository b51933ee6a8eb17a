import { OPERATOR, OperatorToken, operatorAuthorization } from '@transport-lab/shared';

/** Where the page keeps the token: this tab's sessionStorage (gone with the tab, never sent by itself). */
type TokenStorage = Pick<Storage, 'getItem' | 'setItem'>;

/**
 * Takes the operator token from the presenter's link (`/?operator=<token>`, printed by `npm start`):
 * kept in this tab's sessionStorage and removed from the address bar, so that it is neither shown on
 * the projector nor copied with the address nor kept in this entry of the history. A value that is
 * not a token is dropped from the address all the same.
 */
export function adoptOperatorLink(
  location: Pick<Location, 'href'>,
  history: Pick<History, 'replaceState' | 'state'>,
  storage: TokenStorage | undefined = sessionStorageOrNone(),
): void {
  const url = new URL(location.href);
  const given = url.searchParams.get(OPERATOR.linkParam);
  if (given === null) return;
  const token = OperatorToken.safeParse(given);
  if (token.success) storage?.setItem(OPERATOR.storageKey, token.data);
  url.searchParams.delete(OPERATOR.linkParam);
  history.replaceState(history.state, '', url.href);
}

/** The headers that make a request the operator's, when this tab was opened with the token; none
 *  otherwise (a page on the server's own machine is the operator without them). */
export function operatorHeaders(
  storage: TokenStorage | undefined = sessionStorageOrNone(),
): Record<string, string> {
  const token = OperatorToken.safeParse(storage?.getItem(OPERATOR.storageKey));
  return token.success ? { authorization: operatorAuthorization(token.data) } : {};
}

/** sessionStorage, or none where it is missing or refused (a test; a browser that blocks storage
 *  throws on the mere read of `window.sessionStorage`). */
function sessionStorageOrNone(): TokenStorage | undefined {
  try {
    return typeof sessionStorage === 'undefined' ? undefined : sessionStorage;
  } catch {
    return undefined;
  }
}
