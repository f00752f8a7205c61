//go:build unix

package e2e

import (
	"os"
	"os/exec"
	"syscall"
)

// setProcAttr puts the emulator in a process group of its own, so that a
// Ctrl-C at the terminal reaches the test, not it, and stop can signal it
// and the function it runs together; where the platform allows, the
// emulator is killed when its parent dies.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setDeathSignal(cmd.SysProcAttr)
}

// terminate asks the emulator's process group to exit.
func terminate(p *os.Process) error { return syscall.Kill(-p.Pid, syscall.SIGTERM) }

// kill ends the emulator's process group at once.
func kill(p *os.Process) error { return syscall.Kill(-p.Pid, syscall.SIGKILL) }
