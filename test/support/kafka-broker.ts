// A dedicated single-node KRaft Kafka broker for fault tests: its own free
// loopback ports and temp data dir, the jars the stack already cached
// (KAFKA_HOME from .stack/env). A test may stop it (SIGTERM), kill it (SIGKILL)
// and start it again on the same ports and data: the shared stack broker is
// never touched, because other engineers' tests use it concurrently.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin } from '@platformatic/kafka';
import { run, stackEnv } from './stack-env.js';

export class KafkaBrokerError extends Error {
  override readonly name = 'KafkaBrokerError';
}

/** A port nobody listens on right now (the OS picks it; tiny race until the broker binds it). */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => ok(port));
    });
  });
}

/** server.properties for a broker+controller in one JVM (pure). */
/**
 * A KRaft cluster id: 16 random bytes, base64url without padding — never starting with '-',
 * which the storage tool's argument parser reads as an option (a CI run failed on one in 64);
 * Kafka's own Uuid.randomUuid draws again for the same reason.
 */
export function kraftClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** A SASL_SSL listener beside the plaintext one: its port, the broker's PKCS12 keystore, the users. */
export interface SecureListener {
  port: number;
  keystore: string;
  keystorePassword: string;
  user: BrokerUser;
}

/** One user for every mechanism: PLAIN from the JAAS config, SCRAM from credentials stored at format time. */
export interface BrokerUser {
  name: string;
  password: string;
}

export function brokerProperties(dataDir: string, port: number, controllerPort: number, secure?: SecureListener): string {
  const sasl = secure ? `,SASL_SSL://127.0.0.1:${secure.port}` : '';
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.bootstrap.servers=127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}${sasl}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}${sasl}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT${secure ? ',SASL_SSL:SASL_SSL' : ''}`,
    ...(secure ? secureListenerProperties(secure) : []),
    `log.dirs=${dataDir}`,
    'num.partitions=1',
    'auto.create.topics.enable=false',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=2',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    // fsync every message so a kill -9 loses nothing the producer saw acknowledged
    'log.flush.interval.messages=1',
    '',
  ].join('\n');
}

function secureListenerProperties(l: SecureListener): string[] {
  const scram = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  return [
    'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    `listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${l.user.name}="${l.user.password}";`,
    `listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=${scram}`,
    `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=${scram}`,
    'ssl.keystore.type=PKCS12',
    `ssl.keystore.location=${l.keystore}`,
    `ssl.keystore.password=${l.keystorePassword}`,
    `ssl.key.password=${l.keystorePassword}`,
    'ssl.client.auth=none',
  ];
}

export class KafkaBroker {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private logStream: WriteStream | undefined;
  /** How many times the JVM was started (1 after the first start()). */
  starts = 0;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly controllerPort: number,
    /** With `create({ secure: true })`: the SASL_SSL listener. */
    readonly secure?: SecureListener & { caFile: string },
  ) {}

  /** `host:port` for clients (the plaintext listener). */
  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** `host:port` of the SASL_SSL listener (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; the server certificate is `secure.caFile`). */
  get secureBootstrap(): string {
    if (!this.secure) throw new KafkaBrokerError('this broker has no SASL_SSL listener: create it with { secure: true }');
    return `127.0.0.1:${this.secure.port}`;
  }

  get logFile(): string {
    return join(this.dir, 'kafka.log');
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Formats a fresh data dir on free ports and starts the broker; resolves when it serves metadata.
   * `secure` adds a SASL_SSL listener: a self-signed certificate for 127.0.0.1 made with keytool,
   * and one user (`secure.user`) for PLAIN and both SCRAM mechanisms.
   */
  static async create(opts: { timeoutMs?: number; secure?: boolean } = {}): Promise<KafkaBroker> {
    const dir = await mkdtemp(join(tmpdir(), 'cdc-lake-kafka-'));
    const secure = opts.secure ? await selfSignedListener(dir, await freePort()) : undefined;
    const broker = new KafkaBroker(dir, await freePort(), await freePort(), secure);
    await mkdir(join(dir, 'data'));
    await writeFile(broker.propsFile, brokerProperties(join(dir, 'data'), broker.port, broker.controllerPort, secure));
    const clusterId = kraftClusterId();
    const scram = secure ? ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => ['--add-scram', `${m}=[name=${secure.user.name},password=${secure.user.password}]`]) : [];
    const fmt = await run('java', ['-Xmx128m', '-cp', broker.classpath, quietLog(), 'kafka.tools.StorageTool', 'format', '--standalone', '-t', clusterId, '-c', broker.propsFile, ...scram]);
    if (fmt.code !== 0) throw new KafkaBrokerError(`kafka storage format in ${dir} failed (exit ${fmt.code}): ${fmt.stderr || fmt.stdout}`);
    await broker.start(opts.timeoutMs);
    return broker;
  }

  private get propsFile(): string {
    return join(this.dir, 'server.properties');
  }

  private get classpath(): string {
    const home = stackEnv().vars['KAFKA_HOME'];
    if (!home) throw new KafkaBrokerError('KAFKA_HOME missing from .stack/env: run `npm run stack:up` (it caches the Kafka jars)');
    return `${home}/lib/*`;
  }

  /** Starts the JVM on the same ports and data dir; resolves when the broker answers metadata requests. */
  async start(timeoutMs = 120_000): Promise<void> {
    if (this.running) throw new KafkaBrokerError(`broker ${this.bootstrap} is already running`);
    this.logStream = createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(
      'java',
      ['-Xms128m', '-Xmx384m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true', quietLog(), '-cp', this.classpath, 'kafka.Kafka', this.propsFile],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.pipe(this.logStream, { end: false });
    child.stderr?.pipe(this.logStream, { end: false });
    this.child = child;
    this.starts++;
    this.exited = new Promise((ok) => child.once('exit', () => ok()));
    const deadline = Date.now() + timeoutMs;
    while (!(await this.answers())) {
      if (!this.running) throw new KafkaBrokerError(`broker ${this.bootstrap} exited during start-up: ${await this.logTail()}`);
      if (Date.now() > deadline) throw new KafkaBrokerError(`broker ${this.bootstrap} not ready in ${timeoutMs} ms: ${await this.logTail()}`);
      await sleep(300);
    }
  }

  /** True when the broker lists topics. */
  async answers(): Promise<boolean> {
    const admin = new Admin({ clientId: 'cdc-lake-broker-probe', bootstrapBrokers: [this.bootstrap], timeout: 2000, retries: 0 });
    try {
      await admin.listTopics();
      return true;
    } catch {
      return false;
    } finally {
      await admin.close().catch(() => undefined);
    }
  }

  /** SIGTERM (controlled shutdown) and wait for the exit; SIGKILL after timeoutMs. */
  async stop(timeoutMs = 60_000): Promise<void> {
    if (!this.running) return;
    this.child?.kill('SIGTERM');
    const t = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    try {
      await this.exited;
    } finally {
      clearTimeout(t);
    }
  }

  /** kill -9: no controlled shutdown, no flush beyond what is already on disk. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  async createTopic(topic: string, partitions: number): Promise<void> {
    const admin = new Admin({ clientId: 'cdc-lake-broker-admin', bootstrapBrokers: [this.bootstrap] });
    try {
      await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
    } finally {
      await admin.close().catch(() => undefined);
    }
  }

  async logTail(lines = 40): Promise<string> {
    const text = await readFile(this.logFile, 'utf8').catch(() => '');
    return text.trim().split('\n').slice(-lines).join('\n');
  }

  /** Kills the JVM and removes the data dir (keeps it when KEEP_KAFKA_DIR is set, for post-mortems). */
  async destroy(): Promise<void> {
    await this.kill();
    this.logStream?.end();
    if (!process.env['KEEP_KAFKA_DIR']) await rm(this.dir, { recursive: true, force: true });
  }
}

/** A PKCS12 keystore with a self-signed certificate for 127.0.0.1/localhost, and that certificate as PEM (the clients' CA). */
async function selfSignedListener(dir: string, port: number): Promise<SecureListener & { caFile: string }> {
  const keystore = join(dir, 'broker.p12');
  const caFile = join(dir, 'ca.pem');
  const keystorePassword = randomBytes(12).toString('hex');
  const pass = ['-storepass', keystorePassword];
  const gen = await run('keytool', ['-genkeypair', '-alias', 'broker', '-keyalg', 'RSA', '-keysize', '2048', '-validity', '2', '-dname', 'CN=localhost', '-ext', 'SAN=ip:127.0.0.1,dns:localhost', '-keystore', keystore, '-storetype', 'PKCS12', ...pass, '-keypass', keystorePassword]);
  if (gen.code !== 0) throw new KafkaBrokerError(`keytool -genkeypair failed (exit ${gen.code}): ${gen.stderr || gen.stdout}`);
  const exp = await run('keytool', ['-exportcert', '-rfc', '-alias', 'broker', '-keystore', keystore, ...pass, '-file', caFile]);
  if (exp.code !== 0) throw new KafkaBrokerError(`keytool -exportcert failed (exit ${exp.code}): ${exp.stderr || exp.stdout}`);
  return { port, keystore, keystorePassword, caFile, user: { name: 'cdc', password: randomBytes(9).toString('hex') } };
}

function quietLog(): string {
  return `-Dlog4j2.configurationFile=${join(stackEnv().repoRoot, 'scripts', 'stack.d', 'log4j2.properties')}`;
}
