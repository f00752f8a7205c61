// Package pricing holds the AWS list prices the cost estimates use (make
// bench's cost model in infra/bench, make amplification's workload bill
// and attachment cost in internal/dynamo), so that all price the same
// units the same way.
package pricing
