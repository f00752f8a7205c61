// Package s3local starts and stops a local S3-compatible server for tests
// and the local stack, and builds SDK clients that talk to it.
//
// The server is versitygw (the Versity S3 Gateway, Apache-2.0) with its
// posix backend: buckets are folders of a data folder, objects are files,
// and their metadata (the content type among it) is kept in the files'
// user extended attributes. It was chosen because it verifies SigV4
// signatures, presigned URLs included: a presigned PUT whose signed
// Content-Length or Content-Type the upload does not match, or whose
// expiry has passed, is refused with 403 as S3 refuses it. The
// package's tests pin what the helpdesk relies on.
//
// versitygw is not vendored. `make s3-server` installs the pinned release
// into .local/bin at the module root with go install, and Find looks for it
// there; set HELPDESK_S3_SERVER to use a binary elsewhere.
//
// Start gives each server a fresh random access key and secret. The
// server gets them through its environment, which holds nothing else: not
// on its command line, where any user of the machine could read them, and
// no VGW_* setting of the developer's can change how it runs. It listens on
// the loopback address only, in single account mode, region us-east-1.
//
// The data folder's file system must support user extended attributes
// (ext4, xfs, btrfs and Linux 6.6's tmpfs do). On one that does not (ramfs,
// for one), versitygw exits at once with "xattr check failed: xattrs are
// not supported on this filesystem", and Start's error carries that line.
//
// Like ddblocal's DynamoDB Local, the process runs in its own process group
// and, on Linux, gets SIGKILL when the process that started it dies
// (package childproc).
package s3local
