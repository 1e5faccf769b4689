// Package config holds what every configuration struct shares: FieldError,
// which names the offending field and the fix, and Prefix, which qualifies
// field paths as nested structs are validated. It imports nothing internal.
package config

import (
	"errors"
	"fmt"
)

// FieldError is one problem with one configuration field.
type FieldError struct {
	Field   string // dotted path, such as "source.port"
	Problem string // what is wrong
	Fix     string // what to do about it
}

func (e *FieldError) Error() string {
	if e.Fix == "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Problem)
	}
	return fmt.Sprintf("%s: %s; %s", e.Field, e.Problem, e.Fix)
}

// Errorf makes a FieldError.
func Errorf(field, fix, problem string, args ...any) *FieldError {
	return &FieldError{Field: field, Problem: fmt.Sprintf(problem, args...), Fix: fix}
}

// Prefix returns err with every FieldError's path prefixed by prefix and a
// dot. Errors joined with errors.Join are walked; others are returned as is.
func Prefix(prefix string, err error) error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, Prefix(prefix, e))
		}
		return errors.Join(out...)
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		c := *fe
		if c.Field == "" {
			c.Field = prefix
		} else {
			c.Field = prefix + "." + c.Field
		}
		return &c
	}
	return err
}
