//go:build !unix

package childproc

import (
	"os"
	"os/exec"
)

// Isolate does nothing on platforms without Unix process groups.
func Isolate(*exec.Cmd) {}

// terminate kills: there is no portable polite signal here.
func terminate(p *os.Process) error { return p.Kill() }

func kill(p *os.Process) error { return p.Kill() }
