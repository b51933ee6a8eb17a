// The reconnect storm's clients, a process of their own (storm.ts forks it): plain JavaScript, so that
// it runs on bare node whatever loads the server (tsx, Playwright's loader). In the server's own event
// loop, 80 clients noticed a dropped connection one after another over 0.1–1.1 s on a loaded 2-core
// machine, which spread the lock-step comeback the storm is meant to show; here they have a loop of
// their own and the server's loop only accepts.
//
// argv: url, randomizationFactor, clients, reconnectionDelayMs. Messages to the parent:
// {type: 'connected'} once every client is; {type: 'stopped', noticedSpreadMs} after {type: 'stop'}.
import { io } from 'socket.io-client';

const [url, factor, count, delayMs] = process.argv.slice(2);
const clients = [];
/** When each client noticed the drop, ms (this process's clock): their spread is reported. */
const noticed = [];
let waiting = Number(count);
for (let i = 0; i < Number(count); i++) {
  const client = io(url, {
    transports: ['websocket'],
    forceNew: true,
    reconnectionDelay: Number(delayMs),
    // The first retry is the one plotted; later ones would double the delay up to here.
    reconnectionDelayMax: Number(delayMs) * 4,
    randomizationFactor: Number(factor),
  });
  client.once('connect', () => {
    waiting -= 1;
    if (waiting === 0) process.send({ type: 'connected' });
  });
  client.on('disconnect', () => noticed.push(performance.now()));
  clients.push(client);
}
process.on('message', (message) => {
  if (message?.type !== 'stop') return;
  const noticedSpreadMs = noticed.length ? Math.max(...noticed) - Math.min(...noticed) : 0;
  for (const client of clients) client.disconnect();
  process.send({ type: 'stopped', noticedSpreadMs }, () => process.exit(0));
});
// The storm's server process is gone: so are its clients.
process.on('disconnect', () => process.exit(0));
