import { describe, expect, it } from 'vitest';
import { operatorLines, operatorLink } from './operatorLinks.ts';

const TOKEN = 'a'.repeat(43);

describe('operatorLines', () => {
  it('gives the presenter one operator link per network address, and the audience the plain ones', () => {
    const lines = operatorLines('http://localhost:3000', ['http://192.168.1.20:3000'], TOKEN);
    expect(lines).toContain(`    http://192.168.1.20:3000/?operator=${TOKEN}`);
    expect(lines).toContain('    http://192.168.1.20:3000/');
    expect(lines.filter((line) => line.includes(TOKEN))).toHaveLength(1);
  });

  it('gives this machine’s own address when nothing else can reach the server, and no audience line', () => {
    const lines = operatorLines('http://localhost:3000', [], TOKEN);
    expect(lines).toContain(`    http://localhost:3000/?operator=${TOKEN}`);
    expect(lines.some((line) => line.startsWith('The audience'))).toBe(false);
  });

  it('escapes a token that needs it in a query', () => {
    expect(operatorLink('http://h:1/', `${'b'.repeat(40)}+/=`)).toBe(
      `http://h:1/?operator=${'b'.repeat(40)}%2B%2F%3D`,
    );
  });
});
