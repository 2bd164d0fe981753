 package main

import (
	"fmt"
	store "github.com/acme/shop/internal/store"
	"net/http"
)

func main() {
	fmt.Println(store.Open())
	http.