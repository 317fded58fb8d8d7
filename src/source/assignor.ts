/**
 * Group assignment that keeps every partition of a topic on ONE member, so a table
 * (fed by one Debezium topic) has one writer (design §3.4). Topics are spread over the
 * members subscribed to them, largest topics first, each to the member with the fewest
 * partitions so far; ties break by member id, so every member computes the same plan.
 * Pure: the Kafka client calls it on the group leader with the group's view.
 */
export interface AssignorMember {
  /** Topics the member subscribed to; undefined = all of the group's topics. */
  topics?: string[];
}

export type TopicAssignment = Map<string /*memberId*/, Map<string /*topic*/, number[]>>;

export function assignWholeTopics(members: Map<string, AssignorMember>, partitionsByTopic: Map<string, number>): TopicAssignment {
  const ids = [...members.keys()].sort();
  const out: TopicAssignment = new Map(ids.map((id) => [id, new Map<string, number[]>()]));
  const load = new Map(ids.map((id) => [id, 0]));
  const topics = [...partitionsByTopic].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [topic, count] of topics) {
    const candidates = ids.filter((id) => {
      const t = members.get(id)?.topics;
      return t === undefined || t.includes(topic);
    });
    if (candidates.length === 0) continue;
    let best = candidates[0] as string;
    for (const id of candidates) if ((load.get(id) as number) < (load.get(best) as number)) best = id;
    out.get(best)?.set(
      topic,
      Array.from({ length: count }, (_, i) => i),
    );
    load.set(best, (load.get(best) as number) + count);
  }
  return out;
}
