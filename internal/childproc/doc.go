// Package childproc runs helper processes that tests and the local stack
// start (DynamoDB Local, the S3 server, the Lambda Runtime Interface
// Emulator) so that they never outlive their parent: each gets a process
// group of its own (a Ctrl-C at the terminal reaches the Go program, which
// decides how they end), on Linux the kernel kills it when the parent
// dies, and Stop ends the whole group, politely first. Output keeps the
// tail of a helper's output to say why it failed, and ModuleRoot finds
// where make installs the helpers.
package childproc
