package filestore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/acme/helpdesk/internal/helpdesk"
)

var _ helpdesk.FileStore = (*Store)(nil)

// API is the part of the S3 client the store calls.
type API interface {
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	CopyObject(ctx context.Context, in *s3.CopyObjectInput, opts ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// Presigner is the part of the S3 presign client the store calls.
type Presigner interface {
	PresignPutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
	PresignGetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

// Store is the bucket of uploads and attachments.
type Store struct {
	client  API
	presign Presigner
	bucket  string
	logger  *slog.Logger
	now     func() time.Time
}

// New returns the store of bucket on client. Failures to discard bytes,
// which no caller waits for, are logged to logger.
func New(client *s3.Client, bucket string, logger *slog.Logger) *Store {
	return &Store{client: client, presign: s3.NewPresignClient(client), bucket: bucket, logger: logger, now: time.Now}
}

// UploadKey is the object key of an upload's bytes.
func UploadKey(uploadID string) string { return "uploads/" + uploadID }

// AttachmentKey is the object key of an attachment's bytes.
func AttachmentKey(ticketID, attachmentID string) string {
	return "attachments/" + ticketID + "/" + attachmentID
}

// PresignUpload implements helpdesk.FileStore: a PUT whose signature
// covers Content-Length and Content-Type, so that S3 refuses a body of
// any other size or type.
func (s *Store) PresignUpload(ctx context.Context, u *helpdesk.Upload) (helpdesk.UploadRequest, error) {
	req, err := s.presign.PresignPutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(UploadKey(u.ID)),
		ContentLength: aws.Int64(u.Size), ContentType: aws.String(u.ContentType),
	}, s.signedAt(u.CreatedAt, u.ExpiresAt))
	if err == nil && len(req.URL) > helpdesk.MaxLinkLen {
		err = fmt.Errorf("%d bytes, more than the %d the API shows", len(req.URL), helpdesk.MaxLinkLen)
	}
	if err != nil {
		return helpdesk.UploadRequest{}, fmt.Errorf("presign upload %s: %w", u.ID, err)
	}
	return helpdesk.UploadRequest{URL: req.URL, Method: req.Method, Headers: map[string]string{
		"Content-Type": u.ContentType, "Content-Length": strconv.FormatInt(u.Size, 10),
	}}, nil
}

// signedAt signs a request at signed, to expire at expires. A signature's
// time is in whole seconds: signed is truncated to one, and expires should
// be a whole number of seconds after it.
func (s *Store) signedAt(signed, expires time.Time) func(*s3.PresignOptions) {
	signed = signed.Truncate(time.Second)
	return func(o *s3.PresignOptions) {
		o.Expires = expires.Sub(signed)
		o.Presigner = timedSigner{signer: o.Presigner, at: signed}
	}
}

// UploadedSize implements helpdesk.FileStore with one HeadObject.
func (s *Store) UploadedSize(ctx context.Context, uploadID string) (int64, bool, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(UploadKey(uploadID))})
	if notFound(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, translate(err, "head upload %s", uploadID)
	}
	return aws.ToInt64(out.ContentLength), true, nil
}

// Keep implements helpdesk.FileStore with one CopyObject, inside the
// bucket: the bytes never leave S3.
func (s *Store) Keep(ctx context.Context, uploadID, ticketID string, a helpdesk.Attachment) error {
	_, err := s.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(AttachmentKey(ticketID, a.ID)),
		CopySource: aws.String(s.bucket + "/" + UploadKey(uploadID)),
	})
	return translate(err, "copy upload %s to attachment %s", uploadID, a.ID)
}

// DiscardUpload implements helpdesk.FileStore. A failure is logged: the
// lifecycle rule removes the bytes within a day anyway.
func (s *Store) DiscardUpload(ctx context.Context, uploadID string) error {
	err := s.delete(ctx, UploadKey(uploadID))
	if err != nil {
		s.logger.WarnContext(ctx, "could not remove an attached upload's bytes; the lifecycle rule will",
			slog.String("upload", uploadID), slog.String("error", err.Error()))
	}
	return err
}

// Discard implements helpdesk.FileStore with a DeleteObject per
// attachment (S3 answers a missing key as deleted). Failures are logged.
func (s *Store) Discard(ctx context.Context, ticketID string, ids []string) error {
	var errs []error
	for _, id := range ids {
		if err := s.delete(ctx, AttachmentKey(ticketID, id)); err != nil {
			s.logger.ErrorContext(ctx, "could not remove an attachment's bytes",
				slog.String("ticket", ticketID), slog.String("attachment", id), slog.String("error", err.Error()))
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Store) delete(ctx context.Context, key string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	return translate(err, "delete %s", key)
}

// DownloadLink implements helpdesk.FileStore: a GET valid for
// helpdesk.DownloadValidity whose answer S3 gives the headers
// Content-Disposition: attachment, with the file's name, and the file's
// stored type, so that a browser saves the file and never renders it as
// a page of the bucket's origin. A name of many non-ASCII characters is
// long once encoded twice (RFC 2231, then in the URL's query); should the
// URL pass helpdesk.MaxLinkLen, the name is given in ASCII instead, each
// other character an underscore.
func (s *Store) DownloadLink(ctx context.Context, ticketID string, a helpdesk.Attachment) (helpdesk.Link, error) {
	now := s.now().UTC().Truncate(time.Second)
	expires := now.Add(helpdesk.DownloadValidity)
	sign := func(name string) (string, error) {
		req, err := s.presign.PresignGetObject(ctx, &s3.GetObjectInput{
			Bucket: aws.String(s.bucket), Key: aws.String(AttachmentKey(ticketID, a.ID)),
			ResponseContentDisposition: aws.String(mime.FormatMediaType("attachment", map[string]string{"filename": name})),
			ResponseContentType:        aws.String(a.ContentType),
		}, s.signedAt(now, expires))
		if err != nil {
			return "", err
		}
		return req.URL, nil
	}
	url, err := sign(a.Filename)
	if err == nil && len(url) > helpdesk.MaxLinkLen {
		url, err = sign(asciiName(a.Filename))
	}
	if err == nil && len(url) > helpdesk.MaxLinkLen {
		err = fmt.Errorf("%d bytes, more than the %d the API shows", len(url), helpdesk.MaxLinkLen)
	}
	if err != nil {
		return helpdesk.Link{}, fmt.Errorf("presign attachment %s: %w", a.ID, err)
	}
	return helpdesk.Link{URL: url, ExpiresAt: expires}, nil
}

// asciiName is name with each character outside printable ASCII replaced
// by an underscore.
func asciiName(name string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '_'
		}
		return r
	}, name)
}

// timedSigner signs presigned requests at a given time, so that a
// request's expiry is exactly the one the API shows.
type timedSigner struct {
	signer s3.HTTPPresignerV4
	at     time.Time
}

func (t timedSigner) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, _ time.Time, opts ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return t.signer.PresignHTTP(ctx, creds, r, payloadHash, service, region, t.at, opts...)
}

// notFound reports a HeadObject of a missing key. A function may not list
// the bucket, and then S3 answers it 403 (Forbidden), not 404: a HEAD
// answer has no body to tell a missing key from a denied one. Either way
// the bytes cannot be attached; the stack's tests hold the functions to
// the s3:GetObject that makes a present key readable.
func notFound(err error) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.ErrorCode() {
	case "NotFound", "NoSuchKey", "Forbidden", "AccessDenied":
		return true
	}
	return false
}

// translate turns an S3 failure into the domain's: the bucket answering
// too slowly or not at all is CodeUnavailable, anything else internal.
func translate(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf(format+": %w", append(args, err)...)
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode() == "SlowDown" || apiErr.ErrorCode() == "ServiceUnavailable") {
		return &helpdesk.Error{Code: helpdesk.CodeUnavailable, Message: "The file store is busy; retry."}
	}
	return err
}

// Open is the store of bucket for a function (app.FilesOpener): its S3
// client is made from awsCfg, at AWS_ENDPOINT_URL_S3 when that is set,
// and path-style at any endpoint set so, which an emulated S3 needs: it
// has no bucket subdomains.
func Open(awsCfg aws.Config, bucket string, logger *slog.Logger) helpdesk.FileStore {
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if ep := os.Getenv("AWS_ENDPOINT_URL_S3"); ep != "" {
			o.BaseEndpoint = aws.String(ep)
		}
		o.UsePathStyle = o.BaseEndpoint != nil
	})
	return New(client, bucket, logger)
}
