package childproc_test

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acme/helpdesk/internal/childproc"
)

// TestStopEndsTheGroup starts a shell that starts a grandchild, stops it,
// and checks the grandchild is gone too.
func TestStopEndsTheGroup(t *testing.T) {
	cmd := exec.Command("sh", "-c", "sleep 60 & echo $!; wait")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	childproc.Isolate(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	buf := make([]byte, 32)
	n, _ := out.Read(buf)
	if _, err := fmt.Sscan(string(buf[:n]), &pid); err != nil || pid == 0 {
		t.Fatalf("grandchild pid %q: %v", buf[:n], err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	start := time.Now()
	childproc.Stop(cmd.Process, done, 5*time.Second)
	if time.Since(start) > 4*time.Second {
		t.Fatal("the group ignored SIGTERM until the kill")
	}
	// The group got the signal together; the grandchild may take a moment
	// longer than the shell to go.
	for deadline := time.Now().Add(2 * time.Second); alive(pid); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("grandchild %d outlived Stop", pid)
		}
	}
}

// alive reports whether pid runs, a zombie (dead, not yet reaped by its new
// parent) counting as gone.
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat))
	return len(fields) > 2 && fields[2] != "Z"
}
