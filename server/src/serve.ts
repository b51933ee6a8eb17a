import { existsSync } from 'node:fs';
import { generateOperatorToken } from './access/index.ts';
import { createServer, listen } from './app.ts';
import { ConfigError, loadConfig, repoRoot } from './config.ts';
import { lanUrls } from './http/lanUrls.ts';
import { operatorLines } from './http/operatorLinks.ts';
import { createLogger } from './observability/logger.ts';
import { RedisUnavailableError, StoreVersionError } from './store/index.ts';
import { RESTART_EXIT_CODE, type SupervisorMessage } from './supervisor.ts';

/**
 * The server itself: settings from the environment, listen, and shut down cleanly on a signal.
 * `main.ts` runs it as its child, so that the restart-server fault can end this process and have it
 * started again; run directly (`node --import tsx src/serve.ts`) it is the same server without that
 * fault (a benchmark that reads this process's CPU time wants this one, not the supervisor).
 */
async function serve(): Promise<void> {
  // A .env beside the README fills in what the shell did not set (the shell wins).
  const envFile = `${repoRoot}/.env`;
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.LOG_LEVEL);
  const supervised = typeof process.send === 'function';
  // Under `npm start` the supervisor made the token (or passed OPERATOR_TOKEN on), so that it
  // outlives a restart; run alone, this process makes its own.
  const operatorToken = config.OPERATOR_TOKEN ?? generateOperatorToken();
  config = { ...config, OPERATOR_TOKEN: operatorToken };

  let shuttingDown = false;
  const shutdown = (signal: string, exitCode: number) => {
    // A terminal's Ctrl-C can arrive more than once (shell, npm, script): the first one counts.
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down; running tasks will resume at the next start');
    app.close().then(
      () => process.exit(exitCode),
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };

  const app = await createServer(
    config,
    logger,
    // Only a supervised process can be restarted: nothing would start a lone one again.
    supervised ? { restart: () => shutdown('restart-server fault', RESTART_EXIT_CODE) } : {},
  );

  const { port, receiverPort, h2Port } = await listen(app, {
    port: config.PORT,
    receiverPort: config.RECEIVER_PORT,
    host: config.HOST,
    warm: true,
  });
  // Before the "listening" lines, too: a test that sent SIGINT as soon as it read them killed this
  // process outright half the time (no listener yet), instead of shutting it down.
  process.on('SIGINT', () => shutdown('SIGINT', 0));
  process.on('SIGTERM', () => shutdown('SIGTERM', 0));
  // The supervisor is gone (killed outright): end at once, as a crash would, rather than live on
  // unsupervised beside the next server on the same data.
  if (supervised) process.on('disconnect', () => process.exit(1));
  // The supervisor starts the next process on these ports (PORT=0 would pick new ones, and the
  // page and every lane's reconnection would knock at the old ones), and from now on starts it again
  // after a crash. Told before the lines below: whoever reads them may kill this process at once.
  if (supervised)
    process.send?.({
      type: 'listening',
      port,
      receiverPort,
      ...(h2Port !== undefined ? { h2Port } : {}),
    } satisfies SupervisorMessage);
  const shownHost = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
  logger.info({ port, host: config.HOST, dataDir: config.DATA_DIR }, 'listening');
  // A plain line a person (and the tests that spawn this process) can read.
  const localUrl = `http://${shownHost === '127.0.0.1' ? 'localhost' : shownHost}:${port}`;
  console.log(`Transport Lab listening on ${localUrl}`);
  // On stdout only, never in the structured log: whoever reads the log need not be the operator.
  for (const line of operatorLines(localUrl, lanUrls(config.HOST, app.httpServer.address()), operatorToken))
    console.log(line);
  const receiver = app.receiver.urls();
  logger.info({ ...receiver, receiverPort }, 'webhook receiver listening');
  console.log(`Built-in webhook receiver ("your backend") at ${receiver?.webhookUrl ?? 'nowhere'}`);
  // H2_PORT: the six-streams scenario's HTTP/2 port; its certificate is the demo's own, accepted once.
  if (h2Port !== undefined)
    console.log(
      `HTTP/2 demo port at https://${shownHost === '127.0.0.1' ? 'localhost' : shownHost}:${h2Port}/ (a certificate made at start: open it once and accept it)`,
    );
}

serve().catch((error) => {
  // A database written by a newer release, or a Redis that does not answer, is refused as a wrong
  // setting is: its sentence, no stack.
  if (error instanceof StoreVersionError || error instanceof RedisUnavailableError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
