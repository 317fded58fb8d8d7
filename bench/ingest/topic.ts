/** The bench topics' sizes, asked of the brokers. */
import { Admin } from '@platformatic/kafka';

/** Records in a topic: the sum of its partitions' end offsets (a reused topic may hold more than a run produced). */
export async function topicRecords(brokers: string[], topic: string): Promise<number> {
  const admin = new Admin({ clientId: 'bench', bootstrapBrokers: brokers });
  try {
    const [meta] = (await admin.metadata({ topics: [topic] })).topics.values();
    const partitions = [...(meta?.partitions.keys() ?? [])];
    const [t] = await admin.listOffsets({ topics: [{ name: topic, partitions: partitions.map((p) => ({ partitionIndex: p, timestamp: -1n })) }] });
    return (t?.partitions ?? []).reduce((n, p) => n + Number(p.offset), 0);
  } finally {
    await admin.close();
  }
}
