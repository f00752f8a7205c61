package childproc

import "syscall"

// setDeathSignal has the kernel SIGKILL the child when the Go process dies, even
// by SIGKILL. Strictly the signal follows the OS thread that forked the child,
// and the Go runtime ends a thread only when a goroutine exits while locked
// to it with runtime.LockOSThread; so this holds unless the child is started
// from such a goroutine.
func setDeathSignal(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
