import { OPERATOR, type OperatorToken } from '@transport-lab/shared';

/** `url` with the operator's token in its query: the page keeps it and drops it from the address bar. */
export function operatorLink(url: string, token: OperatorToken): string {
  const link = new URL(url);
  link.searchParams.set(OPERATOR.linkParam, token);
  return link.href;
}

/**
 * What the server prints under its "listening on" line, as a notebook server prints its token:
 * where the audience goes, and the presenter's link that carries the operator token (restart and
 * the faults that reach everyone, from a device other than this one). `localUrl` is this machine's
 * own address of the page; `lanUrls` those other devices can reach (none when listening on loopback).
 */
export function operatorLines(localUrl: string, lanUrls: readonly string[], token: OperatorToken): string[] {
  const lines = [
    'This machine is the operator (restart, faults that reach everyone); from another device, open',
  ];
  const presenter = lanUrls.length > 0 ? lanUrls : [localUrl];
  for (const url of presenter) lines.push(`    ${operatorLink(`${url}/`, token)}`);
  lines.push('and keep that link to yourself: anyone holding it is the operator.');
  if (lanUrls.length > 0) {
    lines.push('The audience opens');
    for (const url of lanUrls) lines.push(`    ${url}/`);
  }
  return lines;
}
