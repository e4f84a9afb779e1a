//go:build js && wasm

// Package jsbridge is the browser peer's one door to JavaScript: it wraps
// syscall/js in the few shapes the peer needs (options objects, callbacks,
// promises) so that no other package touches syscall/js.
package jsbridge

import (
	"fmt"
	"syscall/js"
)

// Value is a JavaScript value.
type Value = js.Value

// Global returns JavaScript's globalThis.
func Global() Value { return js.Global() }

// String returns obj[key] as a string, or def when it is missing.
func String(obj Value, key, def string) string {
	v := obj.Get(key)
	if v.Type() != js.TypeString {
		return def
	}
	return v.String()
}

// Bool returns obj[key] as a bool, or def when it is missing.
func Bool(obj Value, key string, def bool) bool {
	v := obj.Get(key)
	if v.Type() != js.TypeBoolean {
		return def
	}
	return v.Bool()
}

// Callback returns obj[key] as a function to call with one argument, or a
// no-op when obj has no such function. Errors thrown by the callback are
// caught and reported to the console rather than crashing the peer.
func Callback(obj Value, key string) func(arg any) {
	f := obj.Get(key)
	if f.Type() != js.TypeFunction {
		return func(any) {}
	}
	return func(arg any) {
		defer func() {
			if r := recover(); r != nil {
				js.Global().Get("console").Call("error", fmt.Sprintf("shoal: %s callback threw: %v", key, r))
			}
		}()
		f.Invoke(arg)
	}
}

// Bytes copies b into a new Uint8Array.
func Bytes(b []byte) Value {
	a := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(a, b)
	return a
}

// Func exposes a Go function to JavaScript. It lives as long as the page.
func Func(f func(args []Value) any) Value {
	return js.FuncOf(func(_ js.Value, args []js.Value) any { return f(args) }).Value
}

// Promise returns a JavaScript Promise settled by work, which runs on its
// own goroutine so the caller's event loop never waits on Go.
func Promise(work func() (any, error)) Value {
	var executor js.Func
	executor = js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		go func() {
			defer executor.Release()
			v, err := work()
			if err != nil {
				reject.Invoke(js.Global().Get("Error").New(err.Error()))
				return
			}
			resolve.Invoke(v)
		}()
		return nil
	})
	return js.Global().Get("Promise").New(executor)
}

// Strings returns each element of a JavaScript array (or a single value
// standing for one) as a string slice.
func Strings(v Value) []string {
	switch v.Type() {
	case js.TypeString:
		return []string{v.String()}
	case js.TypeObject:
		n := v.Length()
		out := make([]string, 0, n)
		for i := 0; i < n; i++ {
			if e := v.Index(i); e.Type() == js.TypeString {
				out = append(out, e.String())
			}
		}
		return out
	}
	return nil
}

// Each calls f for each element of a JavaScript array; nothing for other
// values.
func Each(v Value, f func(Value)) {
	if v.Type() != js.TypeObject || v.Get("length").Type() != js.TypeNumber {
		return
	}
	for i := 0; i < v.Length(); i++ {
		f(v.Index(i))
	}
}
