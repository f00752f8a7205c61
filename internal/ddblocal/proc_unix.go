//go:build unix

package ddblocal

import (
	"os"
	"os/exec"
	"syscall"
)

// setProcAttr puts java in a process group of its own, so that a Ctrl-C at
// the terminal does not reach it and Stop can signal everything it started,
// and where the platform allows asks for it to be killed when its parent
// dies.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setDeathSignal(cmd.SysProcAttr)
}

// terminate asks java's process group to exit.
func terminate(p *os.Process) error { return syscall.Kill(-p.Pid, syscall.SIGTERM) }

// kill ends java's process group at once.
func kill(p *os.Process) error { return syscall.Kill(-p.Pid, syscall.SIGKILL) }
