package e2e

import "syscall"

// setDeathSignal has the kernel kill the emulator if the test process dies.
func setDeathSignal(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
