package childproc

import (
	"os"
	"time"
)

// Stop asks p's process group to exit, waits up to grace for done (closed
// when the caller's cmd.Wait has returned), then kills the group and waits
// for done.
func Stop(p *os.Process, done <-chan struct{}, grace time.Duration) {
	select {
	case <-done:
		return
	default:
	}
	_ = terminate(p)
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-done:
		return
	case <-timer.C:
	}
	_ = kill(p)
	<-done
}
