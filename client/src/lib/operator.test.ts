import { OPERATOR } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { adoptOperatorLink, operatorHeaders } from './operator.ts';

const TOKEN = 'Zm9yLXRlc3RzLW9ubHktbm90LWEtcmVhbC10b2tlbg';

function memoryStorage() {
  const items = new Map<string, string>();
  return {
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
  };
}

function fakeHistory() {
  const replaced: string[] = [];
  return {
    state: null,
    replaced,
    replaceState: (_s: unknown, _t: string, url?: string | URL | null) => void replaced.push(String(url)),
  };
}

describe('adoptOperatorLink', () => {
  it('keeps the token of the presenter’s link and takes it out of the address, other parameters kept', () => {
    const storage = memoryStorage();
    const history = fakeHistory();
    adoptOperatorLink({ href: `http://10.0.0.7:3000/?room=ABCD1234&operator=${TOKEN}#x` }, history, storage);
    expect(storage.getItem(OPERATOR.storageKey)).toBe(TOKEN);
    expect(history.replaced).toEqual(['http://10.0.0.7:3000/?room=ABCD1234#x']);
    expect(operatorHeaders(storage)).toEqual({ authorization: `Bearer ${TOKEN}` });
  });

  it('drops a value that is not a token from the address without keeping it', () => {
    const storage = memoryStorage();
    const history = fakeHistory();
    adoptOperatorLink({ href: 'http://10.0.0.7:3000/?operator=short' }, history, storage);
    expect(storage.getItem(OPERATOR.storageKey)).toBeNull();
    expect(history.replaced).toEqual(['http://10.0.0.7:3000/']);
    expect(operatorHeaders(storage)).toEqual({});
  });

  it('leaves an address without the parameter alone', () => {
    const history = fakeHistory();
    adoptOperatorLink({ href: 'http://10.0.0.7:3000/?room=ABCD1234' }, history, memoryStorage());
    expect(history.replaced).toEqual([]);
  });
});
