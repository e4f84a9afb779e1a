//go:build js && wasm

package jsbridge

import (
	"fmt"
	"math"
	"syscall/js"
)

// ParseJSON parses text with the browser's JSON.parse and returns the
// document as an Object to read fields from. The peer decodes its
// signaling messages this way instead of with encoding/json, whose
// reflection-driven decoder was the costliest code V8's optimizing tier
// compiled in a starting tab (about half a second of CPU for three of its
// functions; docs/BENCHMARKS.md).
//
//	o, err := jsbridge.ParseJSON(text)
//	if err != nil { ... }
//	m.Name = o.String("name")
//	m.Count = int(o.Int("count", 0, 100))
//	if err := o.Err(); err != nil { ... }
func ParseJSON(text string) (*Object, error) {
	var v Value
	if err := Try(func() { v = js.Global().Get("JSON").Call("parse", text) }); err != nil {
		return nil, fmt.Errorf("json: %w", err)
	}
	var err error
	o := newObject(v, &err)
	if !isNullish(v) && !o.obj {
		err = fmt.Errorf("json: want an object, got %s", describe(v))
	}
	return o, err
}

// Object reads the fields of a parsed JSON object by name, checking each
// one's JSON type as encoding/json would: a missing or null field reads
// as the zero value, a field of another type (or a number that is not an
// integer in range where one is wanted) records an error and reads as the
// zero value. Err returns the first such error of the whole document, so
// a decoder reads every field and checks once.
type Object struct {
	v   Value
	obj bool // v is an object, not an array
	err *error
}

func newObject(v Value, err *error) *Object { return &Object{v: v, obj: isObject(v), err: err} }

// Err returns the first error met reading the document.
func (o *Object) Err() error { return *o.err }

// field returns o[key], or undefined when o is not an object or the
// document has failed already.
func (o *Object) field(key string) Value {
	if *o.err != nil || !o.obj {
		return js.Undefined()
	}
	return o.v.Get(key)
}

func (o *Object) fail(key, want string, v Value) {
	if *o.err == nil {
		*o.err = fmt.Errorf("json: field %q: want %s, got %s", key, want, describe(v))
	}
}

// Has reports whether o[key] is present and not null.
func (o *Object) Has(key string) bool { return !isNullish(o.field(key)) }

// String returns o[key], a string.
func (o *Object) String(key string) string {
	v := o.field(key)
	if v.Type() == js.TypeString {
		return v.String()
	}
	if !isNullish(v) {
		o.fail(key, "a string", v)
	}
	return ""
}

// Bool returns o[key], a boolean.
func (o *Object) Bool(key string) bool {
	v := o.field(key)
	if v.Type() == js.TypeBoolean {
		return v.Bool()
	}
	if !isNullish(v) {
		o.fail(key, "a boolean", v)
	}
	return false
}

// maxSafeInt is the largest integer a JavaScript number holds exactly.
const maxSafeInt = 1<<53 - 1

// Int returns o[key], an integer from min to max; numbers beyond
// ±(2^53-1), which a JavaScript number does not hold exactly, are refused.
func (o *Object) Int(key string, min, max int64) int64 {
	v := o.field(key)
	if v.Type() != js.TypeNumber {
		if !isNullish(v) {
			o.fail(key, "a number", v)
		}
		return 0
	}
	f := v.Float()
	if f != math.Trunc(f) || f < float64(min) || f > float64(max) || math.Abs(f) > maxSafeInt {
		o.fail(key, fmt.Sprintf("an integer from %d to %d", min, max), v)
		return 0
	}
	return int64(f)
}

// Object returns o[key], an object (with no fields when it is missing).
func (o *Object) Object(key string) *Object {
	v := o.field(key)
	inner := newObject(v, o.err)
	if !isNullish(v) && !inner.obj {
		o.fail(key, "an object", v)
	}
	return inner
}

// Each calls f with each element of o[key], an array of objects.
func (o *Object) Each(key string, f func(e *Object)) {
	for _, e := range o.array(key) {
		inner := newObject(e, o.err)
		if !isNullish(e) && !inner.obj {
			o.fail(key, "an array of objects", e)
			return
		}
		f(inner)
	}
}

// Strings returns o[key], an array of strings.
func (o *Object) Strings(key string) []string {
	elems := o.array(key)
	if elems == nil {
		return nil
	}
	out := make([]string, 0, len(elems))
	for _, e := range elems {
		if e.Type() != js.TypeString {
			o.fail(key, "an array of strings", e)
			return nil
		}
		out = append(out, e.String())
	}
	return out
}

// array returns the elements of o[key], an array; nil when it is missing.
func (o *Object) array(key string) []Value {
	v := o.field(key)
	if isNullish(v) {
		return nil
	}
	if !isArray(v) {
		o.fail(key, "an array", v)
		return nil
	}
	out := make([]Value, v.Length())
	for i := range out {
		out[i] = v.Index(i)
	}
	return out
}

func isNullish(v Value) bool { return v.IsNull() || v.IsUndefined() }

// isObject reports whether v is a JSON object (not an array).
func isObject(v Value) bool { return v.Type() == js.TypeObject && !isArray(v) }

var jsArray = js.Global().Get("Array")

func isArray(v Value) bool { return v.Type() == js.TypeObject && jsArray.Call("isArray", v).Bool() }

// describe names v's JSON type for an error message.
func describe(v Value) string {
	switch {
	case isArray(v):
		return "an array"
	case v.Type() == js.TypeNumber:
		return fmt.Sprintf("the number %v", v.Float())
	}
	return v.Type().String()
}
