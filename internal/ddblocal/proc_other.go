//go:build !unix

package ddblocal

import (
	"os"
	"os/exec"
)

// setProcAttr does nothing on platforms without Unix process groups.
func setProcAttr(*exec.Cmd) {}

// terminate kills java: there is no portable polite signal here.
func terminate(p *os.Process) error { return p.Kill() }

// kill kills java.
func kill(p *os.Process) error { return p.Kill() }
