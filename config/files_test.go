// Package config_test checks the operations bundle in config/ with the real tools:
// amtool, promtool and the built collector.
package config_test

import "os"

func readFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}
