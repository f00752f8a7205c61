// Package childproc runs helper processes that tests and the local stack
// start (DynamoDB Local, the Lambda Runtime Interface Emulator) so that
// they never outlive their parent: each gets a process group of its own (a
// Ctrl-C at the terminal reaches the Go program, which decides how they
// end), on Linux the kernel kills it when the parent dies, and Stop ends
// the whole group, politely first.
package childproc
