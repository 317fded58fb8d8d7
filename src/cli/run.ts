import { loadConfig } from '../config/index.js';
import { createLogger } from '../logging.js';
import { Daemon } from '../pipeline/daemon.js';

/** `cdc-lake run --config <file>`: the daemon until SIGTERM/SIGINT, then a graceful stop within the deadline. */
export async function runCommand(flags: { config?: string }): Promise<void> {
  const config = loadConfig(flags.config);
  const logger = createLogger({ level: config.log.level });
  const daemon = new Daemon({ config, logger });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, deadlineMs: config.shutdown.deadlineMs }, 'stopping: flushing buffered changes');
    // Past the deadline the process exits non-zero; the uncommitted tail is re-read on restart.
    setTimeout(() => {
      logger.error({ deadlineMs: config.shutdown.deadlineMs }, 'graceful stop exceeded its deadline; exiting');
      process.exit(1);
    }, config.shutdown.deadlineMs).unref();
    daemon.stop();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  const summary = await daemon.start();
  logger.info({ ...summary }, 'stopped');
}
