package kafka

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"
)

// NewConsumer returns a client that reads topics from offset with the
// connection settings (brokers, SASL, TLS) of c, without a consumer group.
// It is used by `dts tail` and `dts verify`, which read what a task wrote.
func NewConsumer(ctx context.Context, c Config, log *slog.Logger, offset kgo.Offset, topics ...string) (*kgo.Client, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c = c.WithDefaults()
	opts, err := c.options(log, newBatchLimits(c))
	if err != nil {
		return nil, err
	}
	opts = append(opts, kgo.ConsumeTopics(topics...), kgo.ConsumeResetOffset(offset))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	if err := ping(ctx, cl, c); err != nil {
		cl.Close()
		return nil, err
	}
	return cl, nil
}
