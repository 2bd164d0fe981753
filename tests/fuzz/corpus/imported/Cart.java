 package com.acme.shop;

import java.util.List;
import static com.acme.util.Strings.join;
import com.acme.shop.model.*;

class Cart { List<Item> items; }
