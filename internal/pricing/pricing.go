package pricing

// Prices are the list prices the cost estimates use, in US dollars.
type Prices struct {
	Region string `json:"region"`
	// APIRequests is API Gateway's HTTP API price per million requests.
	APIRequests float64 `json:"apiGatewayHttpPerMillion"`
	// LambdaRequests is Lambda's price per million requests.
	LambdaRequests float64 `json:"lambdaRequestsPerMillion"`
	// LambdaGBSecond is Lambda's arm64 price per GB-second.
	LambdaGBSecond float64 `json:"lambdaArm64PerGBSecond"`
	// ReadUnits and WriteUnits are DynamoDB on-demand prices per million
	// read and write request units.
	ReadUnits  float64 `json:"dynamodbReadPerMillion"`
	WriteUnits float64 `json:"dynamodbWritePerMillion"`
	// MemoryMB is the functions' memory size.
	MemoryMB int `json:"lambdaMemoryMB"`
}

// Default are us-east-1 list prices as known when this was written (first
// tiers); check the pricing pages before relying on them.
var Default = Prices{
	Region: "us-east-1", APIRequests: 1.00, LambdaRequests: 0.20, LambdaGBSecond: 0.0000133334,
	ReadUnits: 0.125, WriteUnits: 0.625, MemoryMB: 128,
}

// S3Prices are the S3 Standard list prices the cost of an attachment
// uses, in US dollars.
type S3Prices struct {
	// PutPerThousand prices PUT, COPY, POST and LIST requests.
	PutPerThousand float64
	// GetPerThousand prices GET and HEAD requests (and the rest but
	// DELETE, which is free).
	GetPerThousand float64
	// StoragePerGBMonth prices storage, first tier.
	StoragePerGBMonth float64
}

// S3 are us-east-1 list prices of S3 Standard as known when this was
// written; check the pricing page before relying on them.
var S3 = S3Prices{PutPerThousand: 0.005, GetPerThousand: 0.0004, StoragePerGBMonth: 0.023}
