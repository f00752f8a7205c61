// Package filestore keeps the bytes of uploads and attachments in an S3
// bucket, and signs the requests that move them, so that no file passes
// through API Gateway or a function: a client sends an upload with a
// presigned PUT that S3 itself holds to the declared size and type, and
// downloads an attachment with a presigned GET that S3 serves as a file
// to save (Content-Disposition: attachment).
//
// Objects are laid out by prefix, which the bucket's lifecycle rule and
// each function's IAM policy name:
//
//	uploads/{uploadId}                  an upload; expires after a day
//	attachments/{ticketId}/{attachmentId}  an attachment, copied from its upload
//
// It works against any S3-compatible endpoint (AWS_ENDPOINT_URL_S3 or
// AWS_ENDPOINT_URL, path-style then): locally, the server package s3local
// starts.
package filestore
