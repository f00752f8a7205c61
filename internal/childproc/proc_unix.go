//go:build unix

package childproc

import (
	"os"
	"os/exec"
	"syscall"
)

// Isolate puts cmd's process in a process group of its own and, where the
// platform allows, has it killed when its parent dies. Call it before
// cmd.Start.
func Isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setDeathSignal(cmd.SysProcAttr)
}

func terminate(p *os.Process) error { return syscall.Kill(-p.Pid, syscall.SIGTERM) }

func kill(p *os.Process) error { return syscall.Kill(-p.Pid, syscall.SIGKILL) }
