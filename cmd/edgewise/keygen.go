package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/keyfile"
)

func init() {
	commands["keygen"] = command{
		usage: "keygen -o SITE.key [--force] | keygen --show SITE.pub\n      Make the site's signing key: SITE.key (private, mode 0600: keep it secret) and SITE.pub\n      (the public key pages trust), and print the public key in base64 for Edgewise.load.\n      --show prints the key id and base64 of an existing key file.",
		run:   cmdKeygen,
	}
}

func cmdKeygen(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "private key `FILE` to write; the public key goes beside it, .key replaced by .pub")
	force := fs.Bool("force", false, "replace existing key files (every ruleset must then be signed again)")
	show := fs.String("show", "", "print the public key of this key `FILE` (.pub or .key) and write nothing")
	pos, err := parseArgsAnyOrder(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("keygen takes no arguments besides its flags, got %q", pos)
	}
	if *show != "" {
		if *out != "" {
			return errors.New("keygen: pass -o to make a key or --show to print one, not both")
		}
		pub, err := keyfile.ReadPublic(*show)
		if err != nil {
			return err
		}
		printPublic(stdout, pub)
		return nil
	}
	if *out == "" {
		return errors.New("keygen needs -o SITE.key, the private key file to write")
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	pubPath, err := keyfile.Write(*out, priv, *force)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (private, mode 0600: keep it secret, out of the web root and out of version control)\n", *out)
	fmt.Fprintf(stdout, "wrote %s (public: the key pages trust)\n", pubPath)
	printPublic(stdout, pub)
	return nil
}

func printPublic(w io.Writer, pub ed25519.PublicKey) {
	fmt.Fprintf(w, "key id:     %s\n", engine.KeyIDOf(pub))
	fmt.Fprintf(w, "public key: %s\n", keyfile.Base64(pub))
	fmt.Fprintf(w, "            (pass it to Edgewise.load as publicKey)\n")
}
