import { existsSync } from 'node:fs';
import { createServer, listen } from './app.ts';
import { ConfigError, loadConfig, repoRoot } from './config.ts';
import { createLogger } from './observability/logger.ts';

/** Entry point: settings from the environment, listen, and shut down cleanly on a signal. */
async function main(): Promise<void> {
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
  const app = await createServer(config, logger);

  const { port, receiverPort } = await listen(app, {
    port: config.PORT,
    receiverPort: config.RECEIVER_PORT,
    host: config.HOST,
  });
  const shownHost = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
  logger.info({ port, host: config.HOST, dataDir: config.DATA_DIR }, 'listening');
  // A plain line a person (and the tests that spawn this process) can read.
  console.log(
    `Transport Lab listening on http://${shownHost === '127.0.0.1' ? 'localhost' : shownHost}:${port}`,
  );
  const receiver = app.receiver.urls();
  logger.info({ ...receiver, receiverPort }, 'webhook receiver listening');
  console.log(`Built-in webhook receiver ("your backend") at ${receiver?.webhookUrl ?? 'nowhere'}`);

  let shuttingDown = false;
  const shutdown = (signal: string) => {
    // A terminal's Ctrl-C can arrive more than once (shell, npm, script): the first one counts.
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down; running tasks will resume at the next start');
    app.close().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
