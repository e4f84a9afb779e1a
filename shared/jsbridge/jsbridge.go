//go:build js && wasm

// Package jsbridge is the browser peer's one door to JavaScript: it wraps
// syscall/js in the few shapes the peer needs (options objects, callbacks,
// promises, event handlers, byte arrays, JSON documents read with the
// browser's JSON.parse) so that no other package touches
// syscall/js. It lives in shared/ because shared packages' browser files
// (shared/node/fetch_js.go, shared/signaling/conn_js.go) use it too.
//
// JavaScript calls Go callbacks on its one thread: a callback must return
// quickly and never wait on a channel or a lock that Go code holds while it
// waits for JavaScript. Await and the handlers of On follow that rule.
package jsbridge

import (
	"context"
	"errors"
	"fmt"
	"syscall/js"
)

// Value is a JavaScript value.
type Value = js.Value

// Global returns JavaScript's globalThis.
func Global() Value { return js.Global() }

// String returns obj[key] as a string, or def when it is missing.
func String(obj Value, key, def string) string {
	v := get(obj, key)
	if v.Type() != js.TypeString {
		return def
	}
	return v.String()
}

// Bool returns obj[key] as a bool, or def when it is missing.
func Bool(obj Value, key string, def bool) bool {
	v := get(obj, key)
	if v.Type() != js.TypeBoolean {
		return def
	}
	return v.Bool()
}

// Int returns obj[key] as an int, or def when it is not a number.
func Int(obj Value, key string, def int) int {
	v := get(obj, key)
	if v.Type() != js.TypeNumber {
		return def
	}
	return v.Int()
}

// IsNumber reports whether v is a JavaScript number.
func IsNumber(v Value) bool { return v.Type() == js.TypeNumber }

// IsString reports whether v is a JavaScript string.
func IsString(v Value) bool { return v.Type() == js.TypeString }

// get returns obj[key], or undefined when obj is not an object (where
// syscall/js would panic).
func get(obj Value, key string) Value {
	if t := obj.Type(); t != js.TypeObject && t != js.TypeFunction {
		return js.Undefined()
	}
	return obj.Get(key)
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

// Null returns JavaScript's null.
func Null() Value { return js.Null() }

// GoBytes copies a Uint8Array or an ArrayBuffer into a new byte slice; nil
// for any other value.
func GoBytes(v Value) []byte {
	if v.Type() != js.TypeObject {
		return nil
	}
	if !v.InstanceOf(js.Global().Get("Uint8Array")) {
		if !v.InstanceOf(js.Global().Get("ArrayBuffer")) {
			return nil
		}
		v = js.Global().Get("Uint8Array").New(v)
	}
	b := make([]byte, v.Length())
	js.CopyBytesToGo(b, v)
	return b
}

// Try runs f and returns the JavaScript exception it threw, if any, as an
// error. syscall/js turns a throw inside Call, New, Get or Set into a Go
// panic, and so a Value used as the wrong type (Int of a string, Get of
// undefined): Try turns both back into errors, so that values from the
// page or the network cannot crash the peer. Other panics go on.
func Try(f func()) (err error) {
	defer func() {
		switch r := recover().(type) {
		case nil:
		case js.Error:
			err = errorOf(r.Value)
		case *js.ValueError:
			err = r
		default:
			panic(r)
		}
	}()
	f()
	return nil
}

// Await waits until promise p settles and returns its value, or the reason
// it was rejected as an error, or ctx's error if ctx ends first. A value
// that is not a promise counts as one already fulfilled.
//
// Call it from a goroutine, never from a JavaScript callback: the callback
// would hold up the event loop that has to settle p. The two functions it
// hands to p.then are released when p settles, also after ctx ended; a
// promise that never settles keeps them.
func Await(ctx context.Context, p Value) (Value, error) {
	type result struct {
		v   Value
		err error
	}
	done := make(chan result, 1) // written once, by whichever callback runs
	var onFulfilled, onRejected js.Func
	settle := func(r result) {
		done <- r
		onFulfilled.Release()
		onRejected.Release()
	}
	onFulfilled = js.FuncOf(func(_ js.Value, args []js.Value) any {
		settle(result{v: arg(args)})
		return nil
	})
	onRejected = js.FuncOf(func(_ js.Value, args []js.Value) any {
		settle(result{err: errorOf(arg(args))})
		return nil
	})
	if err := Try(func() {
		js.Global().Get("Promise").Call("resolve", p).Call("then", onFulfilled, onRejected)
	}); err != nil {
		onFulfilled.Release()
		onRejected.Release()
		return js.Undefined(), err
	}
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return js.Undefined(), ctx.Err()
	}
}

// Then calls f with p's value, or the error it was rejected with, once p
// settles, without waiting for it: f runs on JavaScript's thread and must
// not block (post what it learnt to a queue). Where Await would need a
// goroutine per promise, Then needs none.
func Then(p Value, f func(v Value, err error)) {
	var onFulfilled, onRejected js.Func
	settle := func(v Value, err error) {
		onFulfilled.Release()
		onRejected.Release()
		f(v, err)
	}
	onFulfilled = js.FuncOf(func(_ js.Value, args []js.Value) any {
		settle(arg(args), nil)
		return nil
	})
	onRejected = js.FuncOf(func(_ js.Value, args []js.Value) any {
		settle(js.Undefined(), errorOf(arg(args)))
		return nil
	})
	if err := Try(func() {
		js.Global().Get("Promise").Call("resolve", p).Call("then", onFulfilled, onRejected)
	}); err != nil {
		settle(js.Undefined(), err)
	}
}

// On sets target[name] (for example a WebSocket's "onmessage") to a
// function that calls f with the event. f runs on JavaScript's thread: it
// must not block. The returned function clears target[name] and releases
// the function; call it once, when no more events are wanted.
func On(target Value, name string, f func(event Value)) (off func()) {
	fn := js.FuncOf(func(_ js.Value, args []js.Value) any {
		f(arg(args))
		return nil
	})
	target.Set(name, fn)
	return func() {
		target.Set(name, js.Null())
		fn.Release()
	}
}

func arg(args []js.Value) js.Value {
	if len(args) == 0 {
		return js.Undefined()
	}
	return args[0]
}

// errorOf describes a thrown or rejected JavaScript value as a Go error:
// "TypeError: Failed to fetch" for an Error, the value as a string for
// anything else. A value that throws while being described (a hostile
// toString, say) becomes a plain "JavaScript error".
func errorOf(v js.Value) (err error) {
	defer func() {
		if recover() != nil {
			err = errors.New("JavaScript error")
		}
	}()
	switch v.Type() {
	case js.TypeUndefined, js.TypeNull:
		return errors.New("JavaScript error")
	case js.TypeObject:
		name, msg := v.Get("name"), v.Get("message")
		if name.Type() == js.TypeString && msg.Type() == js.TypeString {
			return errors.New(name.String() + ": " + msg.String())
		}
	}
	return errors.New(js.Global().Call("String", v).String())
}
