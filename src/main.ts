import { createApp } from './app/app.js';
import { ConfigError, loadConfig, loadDotEnvFile, type Config } from './config/config.js';

/** Starts Parley: `npm start`. */
async function main(): Promise<void> {
  loadDotEnvFile();
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`${error.message}\nSee .env.example for every variable.`);
      process.exit(1);
    }
    throw error;
  }
  refuseUnsafeLocalMode(config);
  const app = await createApp(config);
  const { logger } = app;
  if (app.authenticator.localMode) {
    logger.warn('Neither JWT_SECRET nor JWKS_URL is set: single-user local mode, every request acts as the one local user');
  }
  if (app.providers.demoMode) {
    logger.warn(
      'No model provider is configured: answering with the built-in demo model. Set OPENAI_API_KEY, OPENAI_BASE_URL or ANTHROPIC_API_KEY for real answers',
    );
  }
  await app.server.listen({ host: config.host, port: config.port });
  logger.info({ database: app.store.kind }, 'Parley is ready');

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

/** Without JWT_SECRET anyone who can reach the port acts as the local user: only loopback, unless explicitly allowed. */
function refuseUnsafeLocalMode(config: Config): void {
  const loopback = ['127.0.0.1', '::1', 'localhost'].includes(config.host);
  if (config.jwtSecret === undefined && config.jwksUrl === undefined && !loopback && !config.allowRemoteLocalMode) {
    console.error(
      `Refusing to listen on ${config.host} without JWT_SECRET: in local mode every request acts as the one local user. ` +
        'Set JWT_SECRET or JWKS_URL, listen on 127.0.0.1, or set ALLOW_REMOTE_LOCAL_MODE=true if you really mean it.',
    );
    process.exit(1);
  }
}

await main();
