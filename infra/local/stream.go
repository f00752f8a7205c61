package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/acme/helpdesk/internal/ddblocal"
)

// StreamHandler is what the Lambda event source mapping calls: the
// dispatcher's HandleStream.
type StreamHandler func(context.Context, lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error)

// Poller feeds a table's stream to a handler the way Lambda's event source
// mapping does: in order per shard, in batches, retrying from the first
// record the handler reports failed. It remembers how far it got in a
// checkpoint file, so a restart neither loses nor repeats records.
type Poller struct {
	DB         *dynamodb.Client
	Streams    *dynamodbstreams.Client
	Table      string
	Handle     StreamHandler
	Checkpoint string // file path; empty keeps progress in memory only
	Interval   time.Duration
	Logger     *slog.Logger

	done      map[string]bool   // shards read to their end
	positions map[string]string // shard id -> last sequence number handled
}

// Run polls until ctx ends.
func (p *Poller) Run(ctx context.Context) error {
	table, err := p.DB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(p.Table)})
	if err != nil {
		return fmt.Errorf("describe table %s: %w", p.Table, err)
	}
	arn := aws.ToString(table.Table.LatestStreamArn)
	if arn == "" {
		return fmt.Errorf("table %s has no stream", p.Table)
	}
	p.done, p.positions = map[string]bool{}, map[string]string{}
	if err := p.load(); err != nil {
		return err
	}
	iterators := map[string]*string{}
	tick := time.NewTicker(p.Interval)
	defer tick.Stop()
	for {
		if err := p.poll(ctx, arn, iterators); err != nil && ctx.Err() == nil {
			p.Logger.Warn("stream poll failed; retrying", slog.String("error", err.Error()))
			clear(iterators)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// poll reads each open shard once.
func (p *Poller) poll(ctx context.Context, arn string, iterators map[string]*string) error {
	desc, err := p.Streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
	if err != nil {
		return fmt.Errorf("describe stream: %w", err)
	}
	for _, shard := range desc.StreamDescription.Shards {
		id := aws.ToString(shard.ShardId)
		if p.done[id] {
			continue
		}
		if iterators[id] == nil {
			in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn), ShardId: shard.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon}
			if seq := p.positions[id]; seq != "" {
				in.ShardIteratorType, in.SequenceNumber = types.ShardIteratorTypeAfterSequenceNumber, aws.String(seq)
			}
			it, err := p.Streams.GetShardIterator(ctx, in)
			if err != nil {
				return fmt.Errorf("shard iterator %s: %w", id, err)
			}
			iterators[id] = it.ShardIterator
		}
		out, err := p.Streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iterators[id], Limit: aws.Int32(100)})
		if err != nil {
			return fmt.Errorf("get records %s: %w", id, err)
		}
		iterators[id] = out.NextShardIterator
		if len(out.Records) > 0 {
			if err := p.deliver(ctx, id, out.Records); err != nil {
				iterators[id] = nil // read again from the checkpoint
				return err
			}
		}
		if out.NextShardIterator == nil {
			p.done[id] = true
		}
	}
	return nil
}

// deliver hands records to the handler and advances the checkpoint past
// the records before the first one it reports failed.
func (p *Poller) deliver(ctx context.Context, shard string, records []types.Record) error {
	batch := lambdaevents.DynamoDBEvent{Records: make([]lambdaevents.DynamoDBEventRecord, len(records))}
	for i, r := range records {
		batch.Records[i] = ddblocal.LambdaRecord(r)
	}
	resp, err := p.Handle(ctx, batch)
	if err != nil {
		return fmt.Errorf("handler: %w", err)
	}
	last := aws.ToString(records[len(records)-1].Dynamodb.SequenceNumber)
	if len(resp.BatchItemFailures) > 0 {
		failed := resp.BatchItemFailures[0].ItemIdentifier
		last = ""
		for _, r := range records {
			if aws.ToString(r.Dynamodb.SequenceNumber) == failed {
				break
			}
			last = aws.ToString(r.Dynamodb.SequenceNumber)
		}
	}
	if last != "" {
		p.positions[shard] = last
		if err := p.save(); err != nil {
			return err
		}
	}
	if len(resp.BatchItemFailures) > 0 {
		return errors.New("the handler reported failed records; retrying them")
	}
	return nil
}

func (p *Poller) load() error {
	if p.Checkpoint == "" {
		return nil
	}
	b, err := os.ReadFile(p.Checkpoint)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read stream checkpoint: %w", err)
	}
	var saved struct {
		Positions map[string]string `json:"positions"`
	}
	if err := json.Unmarshal(b, &saved); err != nil {
		return fmt.Errorf("stream checkpoint %s is corrupt (delete it to start over): %w", p.Checkpoint, err)
	}
	if saved.Positions != nil {
		p.positions = saved.Positions
	}
	return nil
}

func (p *Poller) save() error {
	if p.Checkpoint == "" {
		return nil
	}
	b, err := json.Marshal(map[string]any{"positions": p.positions})
	if err != nil {
		return fmt.Errorf("encode stream checkpoint: %w", err)
	}
	tmp := p.Checkpoint + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write stream checkpoint: %w", err)
	}
	return os.Rename(tmp, p.Checkpoint)
}
