package kafka

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/opendts/opendts/internal/cdc"
)

// Router decides the topic and partition of each event's record. It reads
// the topics' partition counts once, at start, and keeps them: a partition
// count raised while the task runs is ignored until the task restarts, so a
// key's partition never moves under a running task.
//
// A Router keeps a scratch buffer for the key text, so Route must be called
// from one goroutine (the task loop).
type Router struct {
	policy   string
	topic    string
	ddlTopic string
	counts   map[string]int32
	buf      []byte
}

// NewRouter reads the partition counts of c's topics from the cluster and
// returns a Router for them. The topics must exist (NewClient creates them
// when c.CreateTopics is set).
func NewRouter(ctx context.Context, cl *kgo.Client, c Config) (*Router, error) {
	c = c.WithDefaults()
	topics := c.topics()
	counts, errs, err := topicPartitions(ctx, cl, topics)
	if err != nil {
		return nil, fmt.Errorf("kafka router: %w", err)
	}
	for _, t := range topics {
		if e := errs[t]; e != nil {
			return nil, fmt.Errorf("kafka router: topic %s: %w", t, e)
		}
	}
	return newRouter(c, counts), nil
}

// newRouter makes a Router for c (with defaults applied) and known
// partition counts per topic.
func newRouter(c Config, counts map[string]int32) *Router {
	return &Router{policy: c.Partitioning, topic: c.Topic, ddlTopic: c.ddlTopic(), counts: counts}
}

// Route returns the topic and partition for ev's record. DDL goes to the
// DDL topic; everything else to the data topic. The partition follows the
// policy (see Partition and AppendKey); events without a key go to
// partition 0.
func (r *Router) Route(ev *cdc.Event) (topic string, partition int32) {
	topic = r.topic
	if ev.Op == cdc.DDL {
		topic = r.ddlTopic
	}
	n := r.counts[topic]
	if n <= 1 || r.policy == PolicyPartition0 {
		return topic, 0
	}
	key, ok := AppendKey(r.buf[:0], r.policy, ev)
	r.buf = key
	if !ok {
		return topic, 0
	}
	return topic, partitionOf(javaHashBytes(key), n)
}

// Partitions returns the partition count the Router uses for topic, or 0
// for a topic it does not route to.
func (r *Router) Partitions(topic string) int32 { return r.counts[topic] }
