package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TopicInfo is what EnsureTopics learned about one topic.
type TopicInfo struct {
	Name       string
	Partitions int32
	// MaxMessageBytes is the topic's effective max.message.bytes (its own
	// setting or the broker's message.max.bytes); 0 if it could not be read.
	MaxMessageBytes int
	// Created says EnsureTopics created the topic.
	Created bool
}

// kafkaDefaultMaxMessageBytes is Kafka's default message.max.bytes, assumed
// for a topic whose configuration cannot be read.
const kafkaDefaultMaxMessageBytes = 1048588

// recordFraming is what a record batch adds around one record: the batch
// header (61 bytes) and the record's own length, attributes, deltas and
// header count, with room to spare. A topic created with
// max.message.bytes = MaxRecordBytes + recordFraming accepts a record of
// MaxRecordBytes.
const recordFraming = 1024

// EnsureTopics checks that every topic exists and reads its partition count
// and max.message.bytes. A missing topic is created when c.CreateTopics is
// set (with c.Partitions, c.ReplicationFactor and max.message.bytes sized for
// c.MaxRecordBytes) and is an error otherwise. Topics are returned in the
// order given.
func EnsureTopics(ctx context.Context, cl *kgo.Client, c Config, topics ...string) ([]TopicInfo, error) {
	c = c.WithDefaults()
	counts, errs, err := topicPartitions(ctx, cl, topics)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, t := range topics {
		switch e := errs[t]; {
		case e == nil:
		case errors.Is(e, kerr.UnknownTopicOrPartition):
			missing = append(missing, t)
		case errors.Is(e, kerr.TopicAuthorizationFailed):
			return nil, fmt.Errorf("topic %s: not authorized to describe it: grant the task's user DESCRIBE and WRITE on the topic: %w", t, e)
		default:
			return nil, fmt.Errorf("topic %s: %w", t, e)
		}
	}
	created := map[string]bool{}
	if len(missing) > 0 {
		if !c.CreateTopics {
			return nil, fmt.Errorf("topic %s does not exist: create it (kafka-topics.sh --create --topic %s), or set create_topics: true", missing[0], missing[0])
		}
		if err := createTopics(ctx, cl, c, missing); err != nil {
			return nil, err
		}
		for _, t := range missing {
			created[t] = true
		}
		if counts, err = waitForTopics(ctx, cl, topics); err != nil {
			return nil, err
		}
	}
	maxBytes, err := topicMaxMessageBytes(ctx, cl, topics)
	if err != nil {
		return nil, err
	}
	out := make([]TopicInfo, 0, len(topics))
	for _, t := range topics {
		out = append(out, TopicInfo{Name: t, Partitions: counts[t], MaxMessageBytes: maxBytes[t], Created: created[t]})
	}
	return out, nil
}

// topicPartitions asks a broker (not kgo's metadata cache, which may hold a
// stale "unknown topic") for the partition counts of topics. Per-topic
// errors are returned in errs; err is a request failure.
func topicPartitions(ctx context.Context, cl *kgo.Client, topics []string) (counts map[string]int32, errs map[string]error, err error) {
	req := kmsg.NewPtrMetadataRequest()
	for _, t := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(t)
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, nil, fmt.Errorf("read topic metadata: %w", err)
	}
	counts, errs = map[string]int32{}, map[string]error{}
	for _, t := range resp.Topics {
		if t.Topic == nil {
			continue
		}
		if e := kerr.ErrorForCode(t.ErrorCode); e != nil {
			errs[*t.Topic] = e
			continue
		}
		if len(t.Partitions) == 0 {
			errs[*t.Topic] = kerr.LeaderNotAvailable // created, partitions not assigned yet
			continue
		}
		counts[*t.Topic] = int32(len(t.Partitions))
	}
	for _, t := range topics {
		if _, ok := counts[t]; !ok && errs[t] == nil {
			errs[t] = kerr.UnknownTopicOrPartition
		}
	}
	return counts, errs, nil
}

func createTopics(ctx context.Context, cl *kgo.Client, c Config, topics []string) error {
	partitions, rf := c.Partitions, c.ReplicationFactor
	if partitions == 0 {
		partitions = -1 // the broker's num.partitions
	}
	if rf == 0 {
		rf = -1 // the broker's default.replication.factor
	}
	configs := map[string]*string{"max.message.bytes": kadm.StringPtr(strconv.Itoa(c.MaxRecordBytes + recordFraming))}
	resps, err := kadm.NewClient(cl).CreateTopics(ctx, partitions, rf, configs, topics...)
	if err != nil {
		return fmt.Errorf("create topics %v: %w", topics, err)
	}
	for _, t := range topics {
		r, ok := resps[t]
		switch {
		case !ok:
			return fmt.Errorf("create topic %s: the broker did not answer for it", t)
		case r.Err == nil, errors.Is(r.Err, kerr.TopicAlreadyExists):
		case errors.Is(r.Err, kerr.TopicAuthorizationFailed), errors.Is(r.Err, kerr.ClusterAuthorizationFailed):
			return fmt.Errorf("create topic %s: not authorized: grant CREATE to the task's user, or create the topic yourself and set create_topics: false: %w", t, r.Err)
		case r.ErrMessage != "":
			return fmt.Errorf("create topic %s: %w: %s", t, r.Err, r.ErrMessage)
		default:
			return fmt.Errorf("create topic %s: %w", t, r.Err)
		}
	}
	return nil
}

// waitForTopics polls until every topic has partitions; a newly created
// topic takes a moment to reach every broker's metadata.
func waitForTopics(ctx context.Context, cl *kgo.Client, topics []string) (map[string]int32, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		counts, errs, err := topicPartitions(ctx, cl, topics)
		if err == nil && len(errs) == 0 {
			return counts, nil
		}
		if err == nil {
			for _, t := range topics {
				if e := errs[t]; e != nil {
					err = fmt.Errorf("topic %s: %w", t, e)
					break
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for created topics to appear in metadata: %w", err)
		case <-time.After(wait):
		}
	}
}

// topicMaxMessageBytes reads max.message.bytes of topics. A topic whose
// configuration cannot be read (no DESCRIBE_CONFIGS permission) maps to 0.
func topicMaxMessageBytes(ctx context.Context, cl *kgo.Client, topics []string) (map[string]int, error) {
	out := map[string]int{}
	rcs, err := kadm.NewClient(cl).DescribeTopicConfigs(ctx, topics...)
	if err != nil && len(rcs) == 0 {
		var ae *kadm.AuthError
		if errors.As(err, &ae) || errors.Is(err, kerr.TopicAuthorizationFailed) {
			return out, nil
		}
		return nil, fmt.Errorf("describe topic configs: %w", err)
	}
	for _, rc := range rcs {
		if rc.Err != nil {
			continue
		}
		for _, cf := range rc.Configs {
			if cf.Key == "max.message.bytes" && cf.Value != nil {
				if n, err := strconv.Atoi(*cf.Value); err == nil && n > 0 {
					out[rc.Name] = n
				}
			}
		}
	}
	return out, nil
}

// batchLimits is the per-topic batch size cap given to kgo
// (ProducerBatchMaxBytesFn). kgo asks once per partition, when it first
// produces to it, which is after NewClient has filled the map.
type batchLimits struct {
	mu      sync.Mutex
	max     int32            // the configured cap, BatchBytes plus framing
	byTopic map[string]int32 // per topic: min(max, max.message.bytes)
}

func newBatchLimits(c Config) *batchLimits {
	return &batchLimits{max: int32(c.BatchBytes + recordFraming), byTopic: map[string]int32{}}
}

// forTopic returns the batch cap for topic. Topics not ensured at start get
// the cap of a Kafka topic with default settings.
func (b *batchLimits) forTopic(topic string) int32 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n, ok := b.byTopic[topic]; ok {
		return n
	}
	return min(b.max, kafkaDefaultMaxMessageBytes)
}

// set records the topics' limits and logs a warning for each topic that
// cannot take a record of MaxRecordBytes.
func (b *batchLimits) set(infos []TopicInfo, c Config, log *slog.Logger) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ti := range infos {
		limit := ti.MaxMessageBytes
		if limit == 0 {
			limit = kafkaDefaultMaxMessageBytes
			log.Warn("cannot read the topic's max.message.bytes (grant DESCRIBE_CONFIGS on the topic); assuming Kafka's default",
				"topic", ti.Name, "max_message_bytes", limit)
		}
		b.byTopic[ti.Name] = min(b.max, int32(min(limit, 1<<30)))
		if limit < c.MaxRecordBytes+recordFraming {
			log.Warn("the topic accepts smaller records than max_record_bytes; a larger record will stop the task",
				"topic", ti.Name, "max_message_bytes", limit, "max_record_bytes", c.MaxRecordBytes,
				"fix", "raise the topic's max.message.bytes, or lower destination.max_record_bytes to match")
		}
	}
}
