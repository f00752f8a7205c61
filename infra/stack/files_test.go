package stack_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/acme/helpdesk/infra/stack"
)

// filesBuckets returns the logical ids of the files bucket (the one the
// output names) and of the bucket its access logs go to.
func (t template) filesBuckets(tb testing.TB) (files, logs string) {
	tb.Helper()
	files = ref(path(t.Outputs[stack.OutputFilesBucketName], "Value"))
	if t.Resources[files].Type != "AWS::S3::Bucket" {
		tb.Fatalf("output %s names %q, not a bucket of the stack", stack.OutputFilesBucketName, files)
	}
	logs = ref(path(t.Resources[files].Properties, "LoggingConfiguration", "DestinationBucketName"))
	if logs == files || t.Resources[logs].Type != "AWS::S3::Bucket" {
		tb.Fatalf("the files bucket logs to %q, not another bucket of the stack", logs)
	}
	return files, logs
}

// bucketPolicy returns the statements of the bucket policy of bucket.
func (t template) bucketPolicy(tb testing.TB, bucket string) []map[string]any {
	tb.Helper()
	var out []map[string]any
	n := 0
	for _, p := range t.ofType("AWS::S3::BucketPolicy") {
		if ref(p.Properties["Bucket"]) != bucket {
			continue
		}
		n++
		for _, st := range list(path(p.Properties, "PolicyDocument", "Statement")) {
			out = append(out, st.(map[string]any))
		}
	}
	if n != 1 {
		tb.Fatalf("bucket %s has %d bucket policies, want 1", bucket, n)
	}
	return out
}

// jsonOf is v as compact JSON, for comparing template fragments.
func jsonOf(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}

func TestFilesBucket(t *testing.T) {
	both(t, func(t *testing.T, s *synthesized) {
		if n := len(s.tmpl.ofType("AWS::S3::Bucket")); n != 2 {
			t.Errorf("%d buckets, want 2: the files bucket and its access logs'", n)
		}
		files, logs := s.tmpl.filesBuckets(t)
		policy := "Retain"
		if s.props.Ephemeral {
			policy = "Delete"
		}
		for _, b := range []struct{ what, id, lifecycle string }{
			{"files bucket", files, fmt.Sprintf(`[{"ExpirationInDays":%d,"Id":"ExpireUploads","Prefix":"uploads/","Status":"Enabled"},`+
				`{"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":%[1]d},"Id":"AbortIncompleteMultipartUploads","Status":"Enabled"}]`, stack.UploadExpiryDays)},
			{"logs bucket", logs, fmt.Sprintf(`[{"ExpirationInDays":%d,"Id":"ExpireAccessLogs","Status":"Enabled"}]`, stack.FileAccessLogDays)},
		} {
			r := s.tmpl.Resources[b.id]
			p := r.Properties
			for what, c := range map[string][2]string{
				"public access block": {jsonOf(p["PublicAccessBlockConfiguration"]), `{"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,"RestrictPublicBuckets":true}`},
				"encryption":          {jsonOf(p["BucketEncryption"]), `{"ServerSideEncryptionConfiguration":[{"ServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}`},
				"ownership":           {jsonOf(p["OwnershipControls"]), `{"Rules":[{"ObjectOwnership":"BucketOwnerEnforced"}]}`},
				// No versioning: a redaction or purge must really delete.
				"versioning":      {jsonOf(p["VersioningConfiguration"]), `null`},
				"lifecycle":       {jsonOf(path(p, "LifecycleConfiguration", "Rules")), b.lifecycle},
				"deletion policy": {r.DeletionPolicy, policy},
			} {
				if c[0] != c[1] {
					t.Errorf("%s: %s %s, want %s", b.what, what, c[0], c[1])
				}
			}

			// TLS only: a deny of every action without TLS, on the bucket
			// and its objects.
			tlsOnly := false
			for _, st := range s.tmpl.bucketPolicy(t, b.id) {
				if st["Effect"] == "Deny" && jsonOf(st["Principal"]) == `{"AWS":"*"}` && st["Action"] == "s3:*" &&
					jsonOf(st["Condition"]) == `{"Bool":{"aws:SecureTransport":"false"}}` &&
					jsonOf(st["Resource"]) == fmt.Sprintf(`[{"Fn::GetAtt":["%s","Arn"]},{"Fn::Join":["",[{"Fn::GetAtt":["%[1]s","Arn"]},"/*"]]}]`, b.id) {
					tlsOnly = true
				}
			}
			if !tlsOnly {
				t.Errorf("%s: its policy does not deny requests without TLS on the bucket and its objects", b.what)
			}
		}

		f := s.tmpl.Resources[files].Properties
		if prefix := path(f, "LoggingConfiguration", "LogFilePrefix"); prefix != "files/" {
			t.Errorf("files bucket: access log prefix %v, want files/", prefix)
		}
		if lc := s.tmpl.Resources[logs].Properties["LoggingConfiguration"]; lc != nil {
			t.Errorf("logs bucket logs its own access: %v", lc)
		}
		// The files bucket's policy allows nothing: the functions' roles
		// hold their grants. The logs bucket's allows S3's log delivery
		// from the files bucket only.
		for _, st := range s.tmpl.bucketPolicy(t, files) {
			if st["Effect"] != "Deny" {
				t.Errorf("files bucket policy allows %v", st)
			}
		}
		var allowed []string
		for _, st := range s.tmpl.bucketPolicy(t, logs) {
			if st["Effect"] == "Allow" {
				allowed = append(allowed, jsonOf(st))
			}
		}
		delivery := fmt.Sprintf(`{"Action":"s3:PutObject","Condition":{"ArnLike":{"aws:SourceArn":{"Fn::GetAtt":["%s","Arn"]}},"StringEquals":{"aws:SourceAccount":{"Ref":"AWS::AccountId"}}},`+
			`"Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Resource":{"Fn::Join":["",[{"Fn::GetAtt":["%s","Arn"]},"/files/*"]]}}`, files, logs)
		if !slices.Equal(allowed, []string{delivery}) {
			t.Errorf("logs bucket policy allows\n %v, want only\n %s", allowed, delivery)
		}

		// CORS only with the API's origins: a browser app PUTs uploads and
		// GETs attachments with presigned URLs.
		cors := f["CorsConfiguration"]
		if len(s.props.CorsOrigins) == 0 {
			if cors != nil {
				t.Errorf("files bucket CORS without origins: %v", cors)
			}
			return
		}
		want := fmt.Sprintf(`{"CorsRules":[{"AllowedHeaders":["content-type"],"AllowedMethods":["PUT","GET"],"AllowedOrigins":%s,"ExposedHeaders":["ETag"],"MaxAge":3600}]}`, jsonOf(s.props.CorsOrigins))
		if got := jsonOf(cors); got != want {
			t.Errorf("files bucket CORS\n %s, want\n %s", got, want)
		}
	})
}

// wantFiles are the S3 statements of the functions that use the files
// bucket, as "Sid: actions on resource [if condition]", resource relative
// to the files bucket's ARN. No other function has any S3 action.
var wantFiles = map[string][]string{
	// Presigned PUT of an upload; HeadObject of it and CopyObject from it
	// (GetObject); its DeleteObject once attached; the copy (PutObject),
	// its DeleteObject when the comment's write fails, presigned GETs of
	// attachments.
	"comments": {
		"FileAttachments: s3:DeleteObject,s3:GetObject,s3:PutObject on /attachments/*",
		"FileUploads: s3:DeleteObject,s3:GetObject,s3:PutObject on /uploads/*",
	},
	// The attachments a comment drops (redacted, or purged with its
	// ticket), by the keys the stream's old image names: no listing.
	"dispatch": {
		"FileAttachments: s3:DeleteObject on /attachments/*",
	},
}

// TestFilesIAM: the functions' S3 statements are exactly wantFiles, on
// exact object ARNs of the files bucket, with no wildcard action, and no
// other role of the stack may call S3.
func TestFilesIAM(t *testing.T) {
	both(t, func(t *testing.T, s *synthesized) {
		files, _ := s.tmpl.filesBuckets(t)
		fns := s.tmpl.functions(t)
		roleOf := map[string]string{} // role logical id -> function name
		for name, id := range fns {
			role, _ := getAtt(s.tmpl.Resources[id].Properties["Role"])
			roleOf[role] = name
		}
		for name := range wantFiles {
			if _, ok := fns[name]; !ok {
				t.Errorf("wantFiles names %s, which the stack does not deploy", name)
			}
		}
		got := map[string][]string{} // function name (or role id) -> statements
		for role := range s.tmpl.ofType("AWS::IAM::Role") {
			who := roleOf[role]
			if who == "" {
				who = "role " + role
			}
			for _, st := range s.tmpl.statements(role) {
				var actions []string
				for _, a := range list(st["Action"]) {
					if strings.HasPrefix(a.(string), "s3:") || a == "*" {
						actions = append(actions, a.(string))
					}
				}
				if len(actions) == 0 {
					continue
				}
				if len(actions) != len(list(st["Action"])) {
					t.Errorf("%s: statement %s mixes S3 actions with others", who, jsonOf(st))
				}
				for _, a := range actions {
					if strings.Contains(a, "*") {
						t.Errorf("%s: wildcard action %s", who, a)
					}
				}
				if st["Effect"] != "Allow" {
					t.Errorf("%s: %s", who, jsonOf(st))
					continue
				}
				res := list(st["Resource"])
				if len(res) != 1 {
					t.Errorf("%s: %s: want one resource per statement", who, jsonOf(st))
					continue
				}
				where := jsonOf(res[0])
				if id, attr := getAtt(res[0]); id == files && attr == "Arn" {
					where = "the bucket"
				} else if parts := list(path(res[0], "Fn::Join")); len(parts) == 2 && parts[0] == "" && len(list(parts[1])) == 2 {
					if id, attr := getAtt(list(parts[1])[0]); id == files && attr == "Arn" {
						where = fmt.Sprint(list(parts[1])[1])
					}
				}
				line := fmt.Sprintf("%v: %s on %s", st["Sid"], strings.Join(actions, ","), where)
				if st["Condition"] != nil {
					line += " if " + jsonOf(st["Condition"])
				}
				got[who] = append(got[who], line)
			}
		}
		for who := range got {
			slices.Sort(got[who])
		}
		for _, who := range slices.Sorted(maps.Keys(got)) {
			if _, ok := wantFiles[who]; !ok {
				t.Errorf("%s may call S3: %q", who, got[who])
			}
		}
		for name, want := range wantFiles {
			if !slices.Equal(got[name], want) {
				t.Errorf("%s: S3 statements\n %q, want\n %q", name, got[name], want)
			}
		}
	})
}
