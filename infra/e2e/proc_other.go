//go:build !unix

package e2e

import (
	"os"
	"os/exec"
)

func setProcAttr(*exec.Cmd) {}

func terminate(p *os.Process) error { return p.Kill() }

func kill(p *os.Process) error { return p.Kill() }
