// Package consumer holds no code: its test builds throwaway modules that use the library as
// a new user would, from the README's own snippet, and checks what they pull in.
package consumer
