// Package dynamotest runs the tests of a package that needs DynamoDB against
// one DynamoDB Local per test binary.
//
// The package's TestMain hands over to Main, which starts an in-memory
// DynamoDB Local (see package ddblocal) before the tests and stops it after:
//
//	func TestMain(m *testing.M) { dynamotest.Main(m) }
//
// Tests then take clients with Client and StreamsClient, and make throwaway
// tables with NewTable, whose unique names let tests run in parallel on the
// one server. If DynamoDB Local cannot start, Main fails the test binary; it
// never skips the tests.
package dynamotest
