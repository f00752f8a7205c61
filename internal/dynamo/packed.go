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
		body, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(v.Value)), maxBody+1))
		if err != nil || len(body) > maxBody {
			return nil, fmt.Errorf("inflate event body: %v (%d bytes)", err, len(body))
		}
		return body, nil
	}
	if v, ok := item[attrBody].(*types.AttributeValueMemberB); ok {
		return v.Value, nil
	}
	return nil, fmt.Errorf("event item has no body")
}
