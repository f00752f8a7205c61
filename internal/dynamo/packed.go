package dynamo

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Event bodies are stored deflated, in attrPacked: an event's JSON, with
// its ticket, is 0.7 to 1.2 KB, and DynamoDB bills a write per started KB
// three times (the table, the feed and the history), so a body that
// deflates to about half keeps most events within one unit each. Events
// recorded before were stored plain, in attrBody; both are read.
const (
	attrBody   = "body"
	attrPacked = "bodyz"
)

// maxBody bounds an inflated body: far above any event (a DynamoDB item
// is at most 400 KB), so that a corrupt item cannot make a reader
// allocate without bound.
const maxBody = 4 << 20

var deflaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestCompression) // a valid level never fails
	return w
}}

// inflaters reuse decompressors: a feed page inflates up to a thousand
// bodies, and a new reader each allocates tens of kilobytes.
var inflaters sync.Pool

// inflate returns the body packed deflated.
func inflate(packed []byte) ([]byte, error) {
	src := bytes.NewReader(packed)
	r, ok := inflaters.Get().(io.ReadCloser)
	if ok {
		if err := r.(flate.Resetter).Reset(src, nil); err != nil {
			return nil, err
		}
	} else {
		r = flate.NewReader(src)
	}
	defer inflaters.Put(r)
	var out bytes.Buffer
	out.Grow(4 * len(packed))
	if _, err := out.ReadFrom(io.LimitReader(r, maxBody+1)); err != nil {
		return nil, err
	}
	if out.Len() > maxBody {
		return nil, fmt.Errorf("more than %d bytes", maxBody)
	}
	return out.Bytes(), nil
}

// pack deflates an event body.
func pack(body []byte) []byte {
	var buf bytes.Buffer
	w := deflaters.Get().(*flate.Writer)
	defer deflaters.Put(w)
	w.Reset(&buf)
	_, _ = w.Write(body) // a bytes.Buffer does not fail
	_ = w.Close()
	return buf.Bytes()
}

// eventBody returns the body of an event item, inflating a packed one.
func eventBody(item map[string]types.AttributeValue) ([]byte, error) {
	if v, ok := item[attrPacked].(*types.AttributeValueMemberB); ok {
		body, err := inflate(v.Value)
		if err != nil {
			return nil, fmt.Errorf("inflate event body: %w", err)
		}
		return body, nil
	}
	if v, ok := item[attrBody].(*types.AttributeValueMemberB); ok {
		return v.Value, nil
	}
	return nil, fmt.Errorf("event item has no body")
}
